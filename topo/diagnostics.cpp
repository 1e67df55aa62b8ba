#include "topo/diagnostics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <tuple>

namespace netlab::topo {
namespace {

// Enough to fix a broken file in a few rounds; a generated file with a systematic mistake
// would otherwise produce one message per line.
constexpr size_t kMaxDiagnostics = 1000;
constexpr size_t kMaxHintDistance = 2;
// Longer words are never typos of a key or a name.
constexpr size_t kMaxHintWordLength = 64;

bool isPlainKey(std::string_view key) {
  if (key.empty() || !(std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_')) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

std::string quoteKey(std::string_view key) {
  std::string quoted = "\"";
  for (char c : key) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      quoted += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

// Optimal string alignment distance: like Levenshtein, but a swap of two neighbouring
// characters ("kidn" for "kind") counts as one edit.
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

bool isUtf8Continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Length of the printable, well-formed UTF-8 character at the front of text; 0 for a control
// byte or a malformed sequence. Overlong forms are not rejected: this only decides what is
// safe to show, the JSON parser has already validated the document's strings.
size_t validUtf8Length(std::string_view text) {
  const auto lead = static_cast<unsigned char>(text[0]);
  if (lead < 0x20 || lead == 0x7f) return 0;
  if (lead < 0x80) return 1;
  const size_t length = lead >= 0xF0 && lead < 0xF5 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (length == 0 || lead >= 0xF5 || text.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if (!isUtf8Continuation(text[i])) return 0;
  }
  return length;
}

}  // namespace

std::string memberPath(std::string_view parent, std::string_view key) {
  if (!isPlainKey(key)) return fmt::format("{}[{}]", parent, quoteKey(key));
  return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

std::string indexPath(std::string_view parent, size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

std::string excerpt(std::string_view text, size_t maxBytes) {
  std::string result;
  size_t i = 0;
  while (i < text.size() && result.size() < maxBytes) {
    const size_t length = validUtf8Length(text.substr(i));
    if (length == 0) {
      result +=
          fmt::format("\\x{:02x}", static_cast<unsigned>(static_cast<unsigned char>(text[i])));
      ++i;
    } else {
      result += text.substr(i, length);
      i += length;
    }
  }
  if (i < text.size()) result += "...";
  return result;
}

std::string didYouMean(std::string_view word, const std::vector<std::string_view>& candidates) {
  if (word.size() > kMaxHintWordLength) return {};
  std::string_view best;
  size_t bestDistance = kMaxHintDistance + 1;
  for (std::string_view candidate : candidates) {
    if (candidate == word) continue;
    const size_t lengthGap = candidate.size() > word.size() ? candidate.size() - word.size()
                                                            : word.size() - candidate.size();
    if (lengthGap > kMaxHintDistance) continue;
    const size_t distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return best.empty() ? std::string() : fmt::format("did you mean `{}`?", best);
}

DiagnosticSink::DiagnosticSink(std::string_view text) : text_(text) {
  lineStarts_.push_back(0);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') lineStarts_.push_back(static_cast<uint32_t>(i + 1));
  }
}

int DiagnosticSink::lineOf(uint32_t offset) const {
  return static_cast<int>(std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset) -
                          lineStarts_.begin());
}

void DiagnosticSink::error(const Where& where, const std::string& message,
                           const std::string& hint) {
  add(Severity::Error, where, message, hint);
}

void DiagnosticSink::warning(const Where& where, const std::string& message,
                             const std::string& hint) {
  add(Severity::Warning, where, message, hint);
}

void DiagnosticSink::add(Severity severity, const Where& where, const std::string& message,
                         const std::string& hint) {
  if (severity == Severity::Error) {
    ++errorCount_;
    if (independentDepth_ > 0) ++independentCount_;
  }
  if (diagnostics_.size() >= kMaxDiagnostics) {
    truncated_ = true;
    return;
  }
  const std::string key =
      fmt::format("{}\n{}\n{}\n{}", static_cast<int>(severity), where.offset, where.path, message);
  if (!seen_.insert(key).second) return;
  // Names quoted in messages may be invalid ones (their own error is reported too): no
  // control byte or broken UTF-8 leaves the sink.
  Diagnostic diagnostic;
  diagnostic.severity = severity;
  diagnostic.location = excerpt(where.path, SIZE_MAX);
  diagnostic.message = excerpt(message, SIZE_MAX);
  diagnostic.hint = excerpt(hint, SIZE_MAX);
  if (where.offset != kNoOffset) {
    const uint32_t offset = std::min<uint32_t>(where.offset, static_cast<uint32_t>(text_.size()));
    diagnostic.line = lineOf(offset);
    const auto prefix =
        text_.substr(lineStarts_[diagnostic.line - 1], offset - lineStarts_[diagnostic.line - 1]);
    // Columns count characters, not bytes, as editors do.
    diagnostic.column =
        1 + static_cast<int>(std::count_if(prefix.begin(), prefix.end(),
                                           [](char c) { return !isUtf8Continuation(c); }));
  }
  diagnostics_.push_back(std::move(diagnostic));
}

std::vector<Diagnostic> DiagnosticSink::take() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
  if (truncated_) {
    diagnostics_.push_back(
        {Severity::Error, "", 0, 0,
         fmt::format("too many problems; only the first {} are shown", kMaxDiagnostics), ""});
  }
  seen_.clear();
  return std::move(diagnostics_);
}

std::string formatDiagnostic(const Diagnostic& diagnostic, const std::string& sourceName) {
  std::string text = sourceName;
  if (diagnostic.line > 0) text += fmt::format(":{}:{}", diagnostic.line, diagnostic.column);
  text += diagnostic.severity == Severity::Error ? ": error: " : ": warning: ";
  if (!diagnostic.location.empty()) text += diagnostic.location + ": ";
  text += diagnostic.message;
  if (!diagnostic.hint.empty()) text += " (hint: " + diagnostic.hint + ")";
  return text;
}

}  // namespace netlab::topo
