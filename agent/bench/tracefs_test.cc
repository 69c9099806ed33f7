#include "agent/bench/tracefs.h"

#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace faultline::agent::bench {
namespace {

// events/mmap_lock/mmap_lock_acquire_returned/format on Linux 6.18.
constexpr char kAcquireReturnedFormat[] =
    "name: mmap_lock_acquire_returned\n"
    "ID: 675\n"
    "format:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
    "\n"
    "\tfield:struct mm_struct * mm;\toffset:8;\tsize:8;\tsigned:0;\n"
    "\tfield:u64 memcg_id;\toffset:16;\tsize:8;\tsigned:0;\n"
    "\tfield:bool write;\toffset:24;\tsize:1;\tsigned:0;\n"
    "\tfield:bool success;\toffset:25;\tsize:1;\tsigned:0;\n"
    "\n"
    "print fmt: \"mm=%p memcg_id=%llu write=%s success=%s\", REC->mm, REC->memcg_id\n";

TEST(EventFormatTest, ReadsIdAndFieldOffsets) {
  absl::StatusOr<EventFormat> format = ParseEventFormat(kAcquireReturnedFormat);
  ASSERT_TRUE(format.ok()) << format.status();
  EXPECT_EQ(format->id, 675);
  EXPECT_EQ(format->Offset("common_pid"), 4);
  EXPECT_EQ(format->Size("common_pid"), 4);
  EXPECT_EQ(format->Offset("mm"), 8);
  EXPECT_EQ(format->Size("mm"), 8);
  EXPECT_EQ(format->Offset("write"), 24);
  EXPECT_EQ(format->Offset("success"), 25);
  EXPECT_EQ(format->Offset("memcg_path"), -1);
}

TEST(EventFormatTest, RefusesAFormatWithoutId) {
  EXPECT_FALSE(ParseEventFormat("name: x\nformat:\n").ok());
}

// Builds a sub-buffer the way kernel/trace/ring_buffer.c lays one out.
class PageBuilder {
 public:
  explicit PageBuilder(uint64_t timestamp) { Put64(timestamp), Put64(0); }
  void Data(uint32_t delta, const std::vector<char>& payload) {
    const uint32_t words = static_cast<uint32_t>((payload.size() + 3) / 4);
    Put32(words | (delta << 5));
    Bytes(payload, words * 4);
  }
  void LongData(uint32_t delta, const std::vector<char>& payload) {
    const uint32_t padded = static_cast<uint32_t>((payload.size() + 3) / 4 * 4);
    Put32(0 | (delta << 5));
    Put32(padded + 4);
    Bytes(payload, padded);
  }
  void TimeExtend(uint64_t delta) {
    Put32(30 | static_cast<uint32_t>((delta & ((1u << 27) - 1)) << 5));
    Put32(static_cast<uint32_t>(delta >> 27));
  }
  void Discarded(uint32_t delta, uint32_t bytes) {
    Put32(29 | (delta << 5));
    Put32(bytes + 4);
    Bytes({}, bytes + 4 - 4);
  }
  std::string Finish(size_t page_size = 4096) {
    const uint64_t length = bytes_.size() - 16;
    std::memcpy(&bytes_[8], &length, sizeof(length));
    bytes_.resize(page_size, '\0');
    return bytes_;
  }

 private:
  void Put32(uint32_t v) { bytes_.append(reinterpret_cast<const char*>(&v), 4); }
  void Put64(uint64_t v) { bytes_.append(reinterpret_cast<const char*>(&v), 8); }
  void Bytes(const std::vector<char>& payload, size_t n) {
    std::string b(payload.begin(), payload.end());
    b.resize(n, '\0');
    bytes_ += b;
  }
  std::string bytes_;
};

TEST(RingBufferPageTest, WalksDataEventsWithTimeDeltas) {
  PageBuilder page(1000);
  page.Data(5, {'a', 'b', 'c', 'd', 'e', 'f'});
  page.Discarded(2, 12);  // a filtered-out event: skipped, its delta not counted
  page.TimeExtend(uint64_t{1} << 30);
  page.LongData(7, std::vector<char>(200, 'x'));
  page.Data(1, {'z'});
  const std::string bytes = page.Finish();
  std::vector<RawEvent> events;
  std::vector<std::string> payloads;
  ASSERT_TRUE(ParseRingBufferPage(bytes.data(), bytes.size(), 3, [&](const RawEvent& e) {
    events.push_back(e);
    payloads.emplace_back(e.data, e.size);
  }));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].cpu, 3);
  EXPECT_EQ(events[0].timestamp, 1005u);
  EXPECT_EQ(payloads[0].substr(0, 6), "abcdef");
  EXPECT_EQ(events[0].size, 8u);  // padded to whole words
  EXPECT_EQ(events[1].timestamp, 1005u + (uint64_t{1} << 30) + 7);
  EXPECT_EQ(events[1].size, 200u);
  EXPECT_EQ(payloads[1], std::string(200, 'x'));
  EXPECT_EQ(events[2].timestamp, events[1].timestamp + 1);
  EXPECT_EQ(payloads[2][0], 'z');
}

TEST(RingBufferPageTest, RefusesALengthBeyondThePage) {
  PageBuilder page(0);
  page.Data(0, {'a', 'b', 'c', 'd'});
  std::string bytes = page.Finish(64);
  const uint64_t length = 4096;
  std::memcpy(&bytes[8], &length, sizeof(length));
  EXPECT_FALSE(ParseRingBufferPage(bytes.data(), bytes.size(), 0, [](const RawEvent&) {}));
}

TEST(RingBufferPageTest, RefusesAnEventCutByTheEnd) {
  PageBuilder page(0);
  page.LongData(0, std::vector<char>(40, 'y'));
  std::string bytes = page.Finish(64);
  // Claim 20 bytes of data: the event's own length says more.
  const uint64_t length = 20;
  std::memcpy(&bytes[8], &length, sizeof(length));
  int seen = 0;
  EXPECT_FALSE(ParseRingBufferPage(bytes.data(), bytes.size(), 0, [&](const RawEvent&) {
    ++seen;
  }));
  EXPECT_EQ(seen, 0);
}

}  // namespace
}  // namespace faultline::agent::bench
