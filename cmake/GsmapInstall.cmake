# cmake --install: the program, its documentation and licence, the Slurm templates and an
# environment-module file (docs/getting-started.md "Installing"):
#   <prefix>/bin/gsmap-mpi
#   <prefix>/share/doc/gsmap-mpi/{README.md,LICENSE,docs/*.md}
#   <prefix>/share/gsmap-mpi/slurm/*.sbatch
#   <prefix>/share/modulefiles/gsmap-mpi/<version>   (Tcl; finds the prefix from its own location)
include(GNUInstallDirs)
set(GSMAP_MODULEFILE_DIR "${CMAKE_INSTALL_DATADIR}/modulefiles" CACHE STRING
    "Where cmake --install puts the environment-module file, relative to the prefix")

install(TARGETS gsmap-mpi RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/LICENSE
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs
        FILES_MATCHING PATTERN "*.md")
file(GLOB _gsmap_sbatch CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/slurm/*.sbatch)
install(PROGRAMS ${_gsmap_sbatch} DESTINATION ${CMAKE_INSTALL_DATADIR}/gsmap-mpi/slurm)
configure_file(${PROJECT_SOURCE_DIR}/cmake/modulefile.tcl.in
               ${PROJECT_BINARY_DIR}/modulefile/${PROJECT_VERSION} @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/modulefile/${PROJECT_VERSION}
        DESTINATION ${GSMAP_MODULEFILE_DIR}/gsmap-mpi)
