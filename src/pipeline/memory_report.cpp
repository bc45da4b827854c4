#include "gsmap/pipeline/memory_report.hpp"

#include <string>
#include <vector>

#include "gsmap/core/log.hpp"
#include "gsmap/core/memory.hpp"
#include "gsmap/dist/mpi.hpp"

namespace gsmap::pipeline {

void log_memory(const char* step, MPI_Comm comm) {
  const std::string mine = core::MemoryLedger::instance().summary();
  const int me = dist::rank(comm), np = dist::size(comm);
  int len = static_cast<int>(mine.size());
  std::vector<int> lens(static_cast<std::size_t>(np)), displs(static_cast<std::size_t>(np), 0);
  GSMAP_MPI_CALL(MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, comm));
  for (int r = 1; r < np; ++r) displs[r] = displs[r - 1] + lens[r - 1];
  std::string all(me == 0 ? static_cast<std::size_t>(displs[np - 1] + lens[np - 1]) : 0, '\0');
  GSMAP_MPI_CALL(MPI_Gatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(),
                             MPI_CHAR, 0, comm));
  if (me != 0) return;
  for (int r = 0; r < np; ++r) {
    GSMAP_LOG_INFO("{}: memory rank {}: {}", step, r, all.substr(displs[r], lens[r]));
  }
}

}  // namespace gsmap::pipeline
