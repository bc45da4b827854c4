add_library(gsmap_warnings INTERFACE)
target_compile_options(gsmap_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${GSMAP_WERROR}>>:-Werror>)
if(GSMAP_SANITIZE)
  add_compile_options(-fsanitize=${GSMAP_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${GSMAP_SANITIZE})
endif()
