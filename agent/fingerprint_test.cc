#include "agent/fingerprint.h"

#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "agent/file_util.h"
#include "gtest/gtest.h"

namespace faultline::agent {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

void WriteFile(const std::string& path, const std::string& content) {
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr) << path;
  std::fwrite(content.data(), 1, content.size(), f);
  std::fclose(f);
}

void MakeDirs(const std::string& root, const std::string& rel) {
  std::string path = root;
  mkdir(root.c_str(), 0755);
  size_t start = 0;
  while (start < rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string::npos) slash = rel.size();
    path += "/" + rel.substr(start, slash - start);
    mkdir(path.c_str(), 0755);
    start = slash + 1;
  }
}

// A fixture tree standing in for /proc and /sys of a TCG arm-like guest.
std::string MakeFixtureRoot(const std::string& name) {
  std::string root = TempDir() + "/" + name;
  mkdir(root.c_str(), 0755);
  MakeDirs(root, "proc/sys/vm");
  MakeDirs(root, "proc/sys/kernel/random");
  MakeDirs(root, "sys/kernel/mm/transparent_hugepage");
  MakeDirs(root, "sys/devices/system/clocksource/clocksource0");
  WriteFile(root + "/proc/cmdline", "console=ttyS0 root=/dev/vda\n");
  WriteFile(root + "/proc/sys/kernel/random/boot_id", "3f1c2a9e-5b7d-4e21-9c0a-1d2e3f4a5b6c\n");
  WriteFile(root + "/proc/cpuinfo",
            "processor\t: 0\nmodel name\t: QEMU TCG CPU version 2.5+\nflags\t: fpu hypervisor\n");
  WriteFile(root + "/proc/meminfo", "MemTotal: 2097152 kB\nSwapTotal: 1048576 kB\n");
  WriteFile(root + "/proc/vmstat", "pgfault 1\nvma_lock_success 3\n");
  WriteFile(root + "/proc/sys/vm/overcommit_memory", "1\n");
  WriteFile(root + "/proc/sys/vm/max_map_count", "65530\n");
  WriteFile(root + "/proc/sys/kernel/randomize_va_space", "2\n");
  WriteFile(root + "/sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n");
  WriteFile(root + "/sys/kernel/mm/transparent_hugepage/defrag", "always [defer] never\n");
  WriteFile(root + "/sys/devices/system/clocksource/clocksource0/available_clocksource",
            "tsc hpet acpi_pm\n");
  return root;
}

TEST(ReadHostFingerprintTest, ReadsFixtureTree) {
  std::string root = MakeFixtureRoot("fixture_tree");
  FingerprintOptions options;
  options.root = root;
  options.kernel_label = "patched/vma-retry";
  absl::StatusOr<v1::HostFingerprint> host = ReadHostFingerprint(options);
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_EQ(host->kernel_label(), "patched/vma-retry");
  EXPECT_EQ(host->cmdline(), "console=ttyS0 root=/dev/vda");
  EXPECT_EQ(host->boot_id(), "3f1c2a9e-5b7d-4e21-9c0a-1d2e3f4a5b6c");
  EXPECT_EQ(host->cpu_model(), "QEMU TCG CPU version 2.5+");
  EXPECT_EQ(host->memory_bytes(), uint64_t{2} << 30);
  EXPECT_EQ(host->swap_bytes(), uint64_t{1} << 30);
  EXPECT_EQ(host->thp_enabled(), "always");
  EXPECT_EQ(host->thp_defrag(), "defer");
  EXPECT_EQ(host->sysctls().at("vm.overcommit_memory"), "1");
  EXPECT_EQ(host->sysctls().at("vm.max_map_count"), "65530");
  EXPECT_EQ(host->sysctls().at("kernel.randomize_va_space"), "2");
  // Missing files are left out, never reported as empty values.
  EXPECT_EQ(host->sysctls().count("vm.swappiness"), 0u);
  EXPECT_EQ(host->virtualization(), v1::VIRTUALIZATION_EMULATED);
  EXPECT_EQ(host->kernel_config_hash(), "");
  ASSERT_GE(host->features_size(), 1);
  EXPECT_EQ(host->features(0), "per_vma_lock_stats");
  EXPECT_NE(host->host_class().find("qemu-tcg-cpu-version-2-5"), std::string::npos)
      << host->host_class();
  EXPECT_NE(host->host_class().find("-2g-tcg"), std::string::npos) << host->host_class();
}

TEST(ReadHostFingerprintTest, OverridesWin) {
  std::string root = MakeFixtureRoot("fixture_overrides");
  FingerprintOptions options;
  options.root = root;
  options.host_class = "lab-box-a";
  options.virtualization = v1::VIRTUALIZATION_NONE;
  absl::StatusOr<v1::HostFingerprint> host = ReadHostFingerprint(options);
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_EQ(host->host_class(), "lab-box-a");
  EXPECT_EQ(host->virtualization(), v1::VIRTUALIZATION_NONE);
  EXPECT_EQ(host->kernel_label(), "stock");
}

TEST(ReadHostFingerprintTest, IcountGuestCarriesItsShift) {
  std::string root = MakeFixtureRoot("fixture_icount");
  FingerprintOptions options;
  options.root = root;
  options.virtualization = v1::VIRTUALIZATION_EMULATED_ICOUNT;
  options.icount_shift = 3;
  absl::StatusOr<v1::HostFingerprint> host = ReadHostFingerprint(options);
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_EQ(host->icount_shift(), 3u);
  EXPECT_TRUE(absl::EndsWith(host->host_class(), "-2g-icount3")) << host->host_class();
  // A real-time guest has no shift, whatever the options say.
  options.virtualization = v1::VIRTUALIZATION_EMULATED;
  host = ReadHostFingerprint(options);
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_EQ(host->icount_shift(), 0u);
  EXPECT_TRUE(absl::EndsWith(host->host_class(), "-2g-tcg")) << host->host_class();
}

TEST(KernelConfigHashTest, GzipAndPlainConfigHashAlike) {
  struct utsname uts;
  ASSERT_EQ(uname(&uts), 0);
  const std::string config = "CONFIG_PER_VMA_LOCK=y\n# CONFIG_PER_VMA_LOCK_STATS is not set\n";

  std::string gz_root = TempDir() + "/config_gz";
  MakeDirs(gz_root, "proc");
  gzFile gz = gzopen((gz_root + "/proc/config.gz").c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, config.data(), static_cast<unsigned>(config.size()));
  gzclose(gz);

  std::string boot_root = TempDir() + "/config_boot";
  MakeDirs(boot_root, "boot");
  WriteFile(boot_root + "/boot/config-" + uts.release, config);

  const std::string gz_hash = KernelConfigHash(gz_root, uts.release);
  EXPECT_EQ(gz_hash, Sha256Hex(config));
  EXPECT_EQ(gz_hash.size(), 64u);
  EXPECT_EQ(KernelConfigHash(boot_root, uts.release), gz_hash);
  EXPECT_EQ(KernelConfigHash(TempDir() + "/no_such_root", uts.release), "");
}

TEST(Sha256HexTest, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ReadHostFingerprintTest, RealHostIsFilled) {
  absl::StatusOr<v1::HostFingerprint> host = ReadHostFingerprint(FingerprintOptions{});
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_FALSE(host->hostname().empty());
  EXPECT_NE(host->arch(), v1::ARCH_UNSPECIFIED);
  EXPECT_FALSE(host->kernel_release().empty());
  EXPECT_GE(host->cpu_count(), 1u);
  EXPECT_GT(host->memory_bytes(), 0u);
  EXPECT_EQ(host->page_size(), static_cast<uint32_t>(sysconf(_SC_PAGESIZE)));
  EXPECT_NE(host->virtualization(), v1::VIRTUALIZATION_UNSPECIFIED);
  EXPECT_FALSE(host->host_class().empty());
  EXPECT_EQ(host->sysctls().count("vm.max_map_count"), 1u);
  std::ifstream boot_id("/proc/sys/kernel/random/boot_id");
  std::string expected;
  std::getline(boot_id, expected);
  EXPECT_EQ(host->boot_id(), expected);
  EXPECT_EQ(host->boot_id().size(), 36u);  // a UUID
}

}  // namespace
}  // namespace faultline::agent
