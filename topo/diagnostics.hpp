// Collecting topology problems: where they are (JSON location and byte offset, turned into
// line and column here), what is wrong, and how to fix it.
#pragma once

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "topo/load.hpp"

namespace netlab::topo {

inline constexpr uint32_t kNoOffset = std::numeric_limits<uint32_t>::max();

// A place in the topology document: "links[3].endpoints[1]" and where its text starts.
struct Where {
  std::string path;
  uint32_t offset = kNoOffset;
};

// The location of a member or an element below `parent`. Keys that read like names stay
// plain (`nodes.r1`), anything else is quoted (`sysctls["net.ipv4.ip_forward"]`).
std::string memberPath(std::string_view parent, std::string_view key);
std::string indexPath(std::string_view parent, size_t index);

// User text, quoted in a message: control bytes and invalid UTF-8 escaped as \xNN, cut
// after maxBytes.
std::string excerpt(std::string_view text, size_t maxBytes = 60);

// "did you mean `router`?" for the candidate within edit distance 2 of word, else "".
std::string didYouMean(std::string_view word, const std::vector<std::string_view>& candidates);

class DiagnosticSink {
 public:
  // text is the document the offsets point into; it must outlive the sink.
  explicit DiagnosticSink(std::string_view text);

  void error(const Where& where, const std::string& message, const std::string& hint = {});
  void warning(const Where& where, const std::string& message, const std::string& hint = {});
  bool hasErrors() const { return errorCount_ > 0; }
  // Errors reported so far: comparing counts tells whether a part of the document was clean.
  size_t errorCount() const { return errorCount_; }
  // Errors that make later stages meaningless: all but those reported under an
  // IndependentErrors guard. A stage that reads the lab's structure runs only while this is 0.
  size_t blockingErrorCount() const { return errorCount_ - independentCount_; }
  bool hasBlockingErrors() const { return blockingErrorCount() > 0; }
  // 1-based line of a byte offset into the document.
  int lineOf(uint32_t offset) const;

  // Everything reported, in document order.
  std::vector<Diagnostic> take();

 private:
  void add(Severity severity, const Where& where, const std::string& message,
           const std::string& hint);

  std::string_view text_;
  std::vector<uint32_t> lineStarts_;
  std::vector<Diagnostic> diagnostics_;
  // The same problem reached twice (e.g. a link setting seen from both ends) is shown once.
  std::set<std::string> seen_;
  size_t errorCount_ = 0;
  size_t independentCount_ = 0;
  int independentDepth_ = 0;
  bool truncated_ = false;

  friend class IndependentErrors;
};

// While one lives, the errors reported concern a value no later stage reads (an MTU, an
// impairment, a sysctl, a test...): the value is left out or at its default, and the stages
// after parsing run anyway, so one run reports every independent problem.
class IndependentErrors {
 public:
  explicit IndependentErrors(DiagnosticSink& sink) : sink_(sink) { ++sink_.independentDepth_; }
  ~IndependentErrors() { --sink_.independentDepth_; }
  IndependentErrors(const IndependentErrors&) = delete;
  IndependentErrors& operator=(const IndependentErrors&) = delete;

 private:
  DiagnosticSink& sink_;
};

}  // namespace netlab::topo
