#pragma once
// MPI for a GoogleTest binary whose tests call MPI on one rank (engine tests on MPI_COMM_WORLD of
// a plain `ctest` run): initialised before the first test, finalised after the last. Include it
// in one source file of the binary.
#include <gtest/gtest.h>
#include <mpi.h>

namespace gsmap::test {

class MpiEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) MPI_Init(nullptr, nullptr);
  }
  void TearDown() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
};

[[maybe_unused]] inline ::testing::Environment* const kMpiEnvironment =
    ::testing::AddGlobalTestEnvironment(new MpiEnvironment);

}  // namespace gsmap::test
