#include "agent/fingerprint_parse.h"

#include "gtest/gtest.h"

namespace faultline::agent {
namespace {

constexpr char kX86CpuInfo[] =
    "processor\t: 0\n"
    "vendor_id\t: AuthenticAMD\n"
    "model name\t: AMD EPYC 7B13 64-Core Processor\n"
    "flags\t\t: fpu vme de pse tsc msr hypervisor lahf_lm\n"
    "\n"
    "processor\t: 1\n"
    "vendor_id\t: AuthenticAMD\n"
    "model name\t: AMD EPYC 7B13 64-Core Processor\n"
    "flags\t\t: fpu vme de pse tsc msr hypervisor lahf_lm\n";

constexpr char kArm64CpuInfo[] =
    "processor\t: 0\n"
    "BogoMIPS\t: 50.00\n"
    "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics\n"
    "CPU implementer\t: 0x41\n"
    "CPU architecture: 8\n"
    "CPU variant\t: 0x3\n"
    "CPU part\t: 0xd0c\n"
    "\n"
    "processor\t: 1\n"
    "CPU implementer\t: 0x41\n"
    "CPU part\t: 0xd0c\n";

constexpr char kTcgCpuInfo[] =
    "processor\t: 0\n"
    "model name\t: QEMU TCG CPU version 2.5+\n"
    "flags\t\t: fpu de pse tsc msr pae hypervisor\n";

constexpr char kMeminfo[] =
    "MemTotal:       24522340 kB\n"
    "MemFree:        20000000 kB\n"
    "SwapTotal:             0 kB\n"
    "HugePages_Total:       0\n";

TEST(ArchFromMachineTest, MapsKnownMachines) {
  EXPECT_EQ(ArchFromMachine("x86_64"), v1::ARCH_X86_64);
  EXPECT_EQ(ArchFromMachine("aarch64"), v1::ARCH_ARM64);
  EXPECT_EQ(ArchFromMachine("riscv64"), v1::ARCH_UNSPECIFIED);
}

TEST(ParseCpuInfoTest, X86ModelCountAndHypervisorFlag) {
  CpuInfo info = ParseCpuInfo(kX86CpuInfo);
  EXPECT_EQ(info.model, "AMD EPYC 7B13 64-Core Processor");
  EXPECT_EQ(info.processors, 2);
  EXPECT_TRUE(info.hypervisor_flag);
}

TEST(ParseCpuInfoTest, Arm64ModelFromImplementerAndPart) {
  CpuInfo info = ParseCpuInfo(kArm64CpuInfo);
  EXPECT_EQ(info.model, "arm-0x41-0xd0c");
  EXPECT_EQ(info.processors, 2);
  EXPECT_FALSE(info.hypervisor_flag);
}

TEST(ParseCpuInfoTest, FlagSubstringIsNotHypervisor) {
  CpuInfo info = ParseCpuInfo("processor : 0\nflags : fpu nothypervisor\n");
  EXPECT_FALSE(info.hypervisor_flag);
}

TEST(ParseMeminfoBytesTest, ConvertsKilobytes) {
  EXPECT_EQ(ParseMeminfoBytes(kMeminfo, "MemTotal"), uint64_t{24522340} * 1024);
  EXPECT_EQ(ParseMeminfoBytes(kMeminfo, "SwapTotal"), uint64_t{0});
  EXPECT_EQ(ParseMeminfoBytes(kMeminfo, "HugePages_Total"), uint64_t{0});
  EXPECT_FALSE(ParseMeminfoBytes(kMeminfo, "Mem").has_value());
  EXPECT_FALSE(ParseMeminfoBytes("MemTotal: lots kB\n", "MemTotal").has_value());
}

TEST(ParseBracketedChoiceTest, PicksBracketedWord) {
  EXPECT_EQ(ParseBracketedChoice("always [madvise] never\n"), "madvise");
  EXPECT_EQ(ParseBracketedChoice("always defer defer+madvise [madvise] never\n"), "madvise");
  EXPECT_EQ(ParseBracketedChoice("[always] madvise never"), "always");
  EXPECT_EQ(ParseBracketedChoice("always madvise never"), "");
}

TEST(HasVmaLockStatsTest, LooksForVmaLockLines) {
  EXPECT_TRUE(HasVmaLockStats("pgfault 10\nvma_lock_success 5\nvma_lock_abort 0\n"));
  EXPECT_FALSE(HasVmaLockStats("pgfault 10\npgmajfault 1\n"));
}

TEST(NormalizeSysctlTest, TrimsAndCollapsesWhitespace) {
  EXPECT_EQ(NormalizeSysctl("2\n"), "2");
  EXPECT_EQ(NormalizeSysctl("4\t4\t1\t7\n"), "4 4 1 7");
}

TEST(ClassifyVirtualizationTest, DistinguishesBareHardwareAndTcg) {
  EXPECT_EQ(ClassifyVirtualization(ParseCpuInfo(kX86CpuInfo), false),
            v1::VIRTUALIZATION_HARDWARE);
  EXPECT_EQ(ClassifyVirtualization(ParseCpuInfo(kArm64CpuInfo), false), v1::VIRTUALIZATION_NONE);
  EXPECT_EQ(ClassifyVirtualization(ParseCpuInfo(kTcgCpuInfo), false),
            v1::VIRTUALIZATION_EMULATED);
  // qemu's default CPU model under KVM still says QEMU; the paravirtual clock gives KVM away.
  EXPECT_EQ(ClassifyVirtualization(ParseCpuInfo(kTcgCpuInfo), true),
            v1::VIRTUALIZATION_HARDWARE);
}

TEST(DeriveHostClassTest, CombinesArchModelCpusMemoryAndVirt) {
  EXPECT_EQ(DeriveHostClass(v1::ARCH_X86_64, "AMD EPYC 7B13 64-Core Processor", 2,
                            uint64_t{24522340} * 1024, v1::VIRTUALIZATION_HARDWARE, 0),
            "x86_64-amd-epyc-7b13-64-core-processor-2cpu-23g-hvm");
  EXPECT_EQ(DeriveHostClass(v1::ARCH_ARM64, "arm-0x41-0xd0c", 4, uint64_t{8} << 30,
                            v1::VIRTUALIZATION_EMULATED, 0),
            "arm64-arm-0x41-0xd0c-4cpu-8g-tcg");
  EXPECT_EQ(DeriveHostClass(v1::ARCH_UNSPECIFIED, "", 1, 0, v1::VIRTUALIZATION_NONE, 0),
            "unknown-unknown-1cpu-0g-bare");
}

// An instruction-counting guest never shares a class with a real-time one, nor with another
// shift: its nanoseconds are 2^shift per instruction.
TEST(DeriveHostClassTest, IcountGuestsAreAClassPerShift) {
  const uint64_t gib = uint64_t{1} << 30;
  const std::string real_time =
      DeriveHostClass(v1::ARCH_X86_64, "QEMU Virtual CPU version 2.5+", 1, gib,
                      v1::VIRTUALIZATION_EMULATED, 3);
  const std::string icount3 = DeriveHostClass(v1::ARCH_X86_64, "QEMU Virtual CPU version 2.5+", 1,
                                              gib, v1::VIRTUALIZATION_EMULATED_ICOUNT, 3);
  const std::string icount2 = DeriveHostClass(v1::ARCH_X86_64, "QEMU Virtual CPU version 2.5+", 1,
                                              gib, v1::VIRTUALIZATION_EMULATED_ICOUNT, 2);
  EXPECT_EQ(real_time, "x86_64-qemu-virtual-cpu-version-2-5-1cpu-1g-tcg");
  EXPECT_EQ(icount3, "x86_64-qemu-virtual-cpu-version-2-5-1cpu-1g-icount3");
  EXPECT_EQ(icount2, "x86_64-qemu-virtual-cpu-version-2-5-1cpu-1g-icount2");
}

}  // namespace
}  // namespace faultline::agent
