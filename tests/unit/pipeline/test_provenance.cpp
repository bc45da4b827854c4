// Provenance (fingerprints, sidecars, reasons) and output locks: pipeline/provenance.hpp, lock.hpp.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gsmap/pipeline/lock.hpp"
#include "gsmap/pipeline/provenance.hpp"

namespace fs = std::filesystem;
using namespace gsmap::pipeline;
namespace pv = gsmap::pipeline::provenance;

namespace {

std::string scratch(const std::string& name) {
  const auto d = fs::temp_directory_path() / ("gsmap_prov_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string host() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// Runs the body with GSMAP_LOCK_MODE set, restoring it afterwards.
struct LockMode_ {
  explicit LockMode_(const char* m) { ::setenv("GSMAP_LOCK_MODE", m, 1); }
  ~LockMode_() { ::unsetenv("GSMAP_LOCK_MODE"); }
};

}  // namespace

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(pv::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(pv::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(pv::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  pv::Sha256 h;  // one million 'a', fed in uneven pieces
  const std::string piece(997, 'a');
  std::size_t fed = 0;
  while (fed + piece.size() <= 1000000) {
    h.update(piece);
    fed += piece.size();
  }
  h.update(std::string(1000000 - fed, 'a'));
  EXPECT_EQ(h.hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Provenance, FileIdentitySeesTailChangesAndMtime) {
  const auto d = scratch("identity");
  const std::string f = d + "/big.bin";
  std::string data(3 << 20, 'x');
  write(f, data);
  const auto a = pv::file_identity(f);
  EXPECT_EQ(a, pv::file_identity(f));
  EXPECT_NE(a.find("size=3145728"), std::string::npos) << a;
  data[data.size() - 10] = 'y';  // inside the last MiB, same size
  write(f, data);
  ::utimensat(AT_FDCWD, f.c_str(), nullptr, 0);
  const auto b = pv::file_identity(f);
  EXPECT_NE(a, b);
  // Same content, other mtime: a different identity too (copies are recomputed).
  struct timespec times[2] = {{1000, 0}, {1000, 0}};
  ::utimensat(AT_FDCWD, f.c_str(), times, 0);
  EXPECT_NE(pv::file_identity(f), b);
  EXPECT_EQ(pv::file_content(f), pv::file_content(f));
  fs::remove_all(d);
}

TEST(Provenance, ReasonsNameWhatChanged) {
  pv::Record r;
  r.step = "spatial_ldsc";
  r.add("input.sumstats", "sha256:1");
  r.add("upstream.marker_scores", "fingerprint:a");
  r.add("option.n_blocks", "200");
  pv::Recorded now;
  now.present = true;
  now.has_record = true;
  now.items = r.items;
  now.fingerprint = r.fingerprint();
  EXPECT_EQ(pv::stale_reason(now, r), "");
  pv::Record changed = r;
  changed.items[1].second = "fingerprint:b";
  EXPECT_EQ(pv::stale_reason(now, changed), "marker scores changed");
  changed.items[2].second = "100";
  EXPECT_EQ(pv::stale_reason(now, changed), "marker scores changed, --n-blocks changed");
  // Worker counts and the backend are not part of the fingerprint.
  pv::Record other = r;
  other.backend = "gpu";
  other.ranks = 8;
  EXPECT_EQ(other.fingerprint(), r.fingerprint());
  pv::Recorded missing;
  EXPECT_EQ(pv::stale_reason(missing, r), "no output yet");
}

TEST(Provenance, SidecarRoundTripAndContentCheck) {
  const auto d = scratch("sidecar");
  const std::string f = d + "/a_T1.csv.gz";
  write(f, "spot,beta\n");
  pv::Record r;
  r.step = "spatial_ldsc";
  r.subject = "spatial_ldsc for trait T1";
  r.command = "gsmap-mpi spatial-ldsc --trait-name \"T1\"";
  r.add("input.trait_name", "T1: with: colons \"and quotes\"");
  pv::write_sidecar(f, r);
  ASSERT_TRUE(fs::exists(f + ".provenance.yaml"));
  auto got = pv::read_sidecar(f);
  EXPECT_TRUE(got.present);
  EXPECT_TRUE(got.has_record);
  EXPECT_EQ(got.fingerprint, r.fingerprint());
  EXPECT_EQ(got.items, r.items);
  EXPECT_EQ(pv::stale_reason(got, r), "");
  write(f, "spot,beta\nrewritten\n");  // e.g. a merge or another tool rewrote it
  got = pv::read_sidecar(f);
  EXPECT_FALSE(got.has_record);
  EXPECT_EQ(pv::stale_reason(got, r), "its content changed after it was written");
  fs::remove(f + ".provenance.yaml");
  EXPECT_EQ(pv::stale_reason(pv::read_sidecar(f), r), "no provenance recorded");
  fs::remove_all(d);
}

class Locks : public ::testing::TestWithParam<const char*> {};

TEST_P(Locks, ExclusiveConflictNamesHostAndPid) {
  LockMode_ mode(GetParam());
  const auto d = scratch(std::string("lock_") + GetParam());
  LockSet a(d), b(d);
  EXPECT_EQ(a.acquire_output("spatial_ldsc.p_T1.csv.gz", "T1 output"), LockMode::kExclusive);
  a.mark_writing("spatial_ldsc.p_T1.csv.gz");
  try {
    b.acquire_output("spatial_ldsc.p_T1.csv.gz", "T1 output");
    FAIL() << "the second writer got the lock";
  } catch (const LockedError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("T1 output is being written by another gsmap-mpi run"), std::string::npos) << m;
    EXPECT_NE(m.find("host " + host()), std::string::npos) << m;
    EXPECT_NE(m.find("PID " + std::to_string(::getpid())), std::string::npos) << m;
  }
  // Other traits proceed side by side.
  EXPECT_EQ(b.acquire_output("spatial_ldsc.p_T2.csv.gz", "T2 output"), LockMode::kExclusive);
  a.release("spatial_ldsc.p_T1.csv.gz");
  EXPECT_EQ(b.acquire_output("spatial_ldsc.p_T1.csv.gz", "T1 output"), LockMode::kExclusive);
  fs::remove_all(d);
}

TEST_P(Locks, ReadersShareAndBlockWriters) {
  LockMode_ mode(GetParam());
  const auto d = scratch(std::string("shared_") + GetParam());
  LockSet a(d), b(d), c(d);
  a.acquire_shared("latent_to_gene", "l2g");
  b.acquire_shared("latent_to_gene", "l2g");
  // A writer that finds the output stale cannot take it while others read it.
  EXPECT_EQ(c.acquire_output("latent_to_gene", "l2g"), LockMode::kShared);
  try {
    c.upgrade("latent_to_gene", "the latent_to_gene output");
    FAIL() << "upgrade under readers";
  } catch (const LockedError& e) {
    EXPECT_NE(std::string(e.what()).find("another gsmap-mpi run is reading it"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("PID " + std::to_string(::getpid())), std::string::npos);
  }
  a.release("latent_to_gene");
  b.release("latent_to_gene");
  c.upgrade("latent_to_gene", "l2g");
  EXPECT_EQ(c.mode("latent_to_gene"), LockMode::kExclusive);
  c.downgrade("latent_to_gene");
  a.acquire_shared("latent_to_gene", "l2g");  // readers are welcome again
  EXPECT_EQ(a.mode("latent_to_gene"), LockMode::kShared);
  fs::remove_all(d);
}

TEST_P(Locks, ReleasedWhenTheHolderIsKilled) {
  LockMode_ mode(GetParam());
  const auto d = scratch(std::string("kill_") + GetParam());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    LockSet held(d);
    held.acquire_output("cauchy_combination.p_T1", "x");
    held.mark_writing("cauchy_combination.p_T1");
    const char c = 'r';
    (void)!::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  {
    LockSet b(d);
    try {
      b.acquire_output("cauchy_combination.p_T1", "the Cauchy results");
      FAIL() << "got a lock held by a live process";
    } catch (const LockedError& e) {
      EXPECT_NE(std::string(e.what()).find("PID " + std::to_string(child)), std::string::npos)
          << e.what();
    }
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  LockSet b(d);
  EXPECT_EQ(b.acquire_output("cauchy_combination.p_T1", "x"), LockMode::kExclusive);
  fs::remove_all(d);
}

INSTANTIATE_TEST_SUITE_P(Backends, Locks, ::testing::Values("fcntl", "files"));

TEST(LocksFiles, StaleHeartbeatOfAnotherHostIsTakenOver) {
  LockMode_ mode("files");
  ::setenv("GSMAP_LOCK_STALE_SECONDS", "5", 1);
  const auto d = scratch("stale");
  fs::create_directories(d + "/.locks");
  const std::string owner = d + "/.locks/spatial_ldsc.x.owner";
  write(owner, "host: some-other-node\npid: 4242\nstarted: 2020-01-01T00:00:00Z\nstate: writing\n");
  {
    LockSet b(d);  // fresh heartbeat: refused
    EXPECT_THROW(b.acquire_output("spatial_ldsc.x", "x"), LockedError);
  }
  struct timespec old[2] = {{::time(nullptr) - 60, 0}, {::time(nullptr) - 60, 0}};
  ::utimensat(AT_FDCWD, owner.c_str(), old, 0);
  LockSet b(d);
  EXPECT_EQ(b.acquire_output("spatial_ldsc.x", "x"), LockMode::kExclusive);
  ::unsetenv("GSMAP_LOCK_STALE_SECONDS");
  fs::remove_all(d);
}

TEST(LockNames, OnlySafeCharacters) {
  EXPECT_EQ(lock_name("spatial_ldsc.p_T1.csv.gz"), "spatial_ldsc.p_T1.csv.gz");
  EXPECT_EQ(lock_name("a/../b c"), "a_.._b_c");
  EXPECT_EQ(lock_name(".hidden"), "_.hidden");
}
