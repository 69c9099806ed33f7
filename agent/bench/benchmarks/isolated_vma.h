// An anonymous range between two PROT_NONE guard pages, so that what is mapped there is always a
// VMA of its own. A plain mmap cannot promise that: the kernel merges a new anonymous mapping
// into an adjacent compatible VMA (vma_merge_new_range in mm/vma.c), which then already has an
// anon_vma, so the new range's first write fault skips anon_vma_prepare. A VMA mapped by Map()
// merges with nothing (its neighbours are PROT_NONE), so it starts with no anon_vma and its
// first write fault takes __vmf_anon_prepare's mmap_read_trylock path; its protection can be
// changed without splitting or merging it.
#ifndef FAULTLINE_AGENT_BENCH_BENCHMARKS_ISOLATED_VMA_H_
#define FAULTLINE_AGENT_BENCH_BENCHMARKS_ISOLATED_VMA_H_

#include <cstddef>
#include <memory>

#include "absl/status/statusor.h"

namespace faultline::agent::bench::benchmarks {

class IsolatedVma {
 public:
  // Reserves `bytes` (rounded up to pages) plus the two guard pages, all PROT_NONE.
  static absl::StatusOr<std::unique_ptr<IsolatedVma>> Reserve(size_t bytes);
  ~IsolatedVma();
  IsolatedVma(const IsolatedVma&) = delete;
  IsolatedVma& operator=(const IsolatedVma&) = delete;

  // Maps a new private anonymous VMA over the range (replacing what was there: its pages are
  // freed). One mmap call; false with errno set when it fails.
  bool Map(int prot);
  // Turns the range back into reservation (one mmap call): frees its pages and merges it with
  // the guards, so between Map()s the whole reservation is one VMA that never had an anon_vma.
  bool Release();

  char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  IsolatedVma(char* base, size_t total, char* data, size_t size)
      : base_(base), total_(total), data_(data), size_(size) {}

  char* base_;
  size_t total_;
  char* data_;
  size_t size_;
};

}  // namespace faultline::agent::bench::benchmarks

#endif  // FAULTLINE_AGENT_BENCH_BENCHMARKS_ISOLATED_VMA_H_
