# format-sumstats (docs/sumstats.md): test_sumstats also runs the built gsmap-mpi (1 and 2 ranks)
# and reads its output with spatial LDSC's reader (gsmap_io).
if(TARGET test_sumstats)
  add_dependencies(test_sumstats gsmap-mpi)
endif()
