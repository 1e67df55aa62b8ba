// What the verbs share: loading topologies with their diagnostics, choosing the lab a command
// means, and printing aligned tables.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "topo/plan.hpp"

namespace netlab::tools {

// Loads and validates a topology, printing every diagnostic to stderr; nullopt on errors.
std::optional<topo::Plan> loadPlan(const std::string& path, const std::string& labOverride = "");

// The lab a command means: the given name, the lab of a topology file, or the only running
// lab when none is given. Throws when that is ambiguous or unknown.
std::string chooseLab(const std::string& labOrTopology);

bool isTerminal(int fd);

// The lab a verb works on, as a positional argument ("lab") or an option ("--lab"); chooseLab
// resolves it.
void addLabArgument(CLI::App& command, std::string& lab, const std::string& name = "lab");

// Throws, naming the verb, unless netlab can do it: as root, or as an ordinary user for the
// verbs a rootless lab has (docs/rootless.md), on a kernel with what it needs
// (nsmgr/kernel_features.hpp).
void requireLabAccess(const char* verb);

// The lab a verb works on, chosen (chooseLab) and, without root, entered: netlab moves into the
// lab's user namespace, where it is root (nsmgr/rootless.hpp). Before any thread is started.
std::string chooseAndEnterLab(const std::string& labOrTopology);

// Columns padded to their widest cell.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string join(const std::vector<std::string>& parts, const std::string& separator);

// A node's usage as `status` and `top` print it: CPU time "12.34s", memory "5.2M" (powers of
// 1024, as the topology's sizes); "-" without a reading.
std::string formatCpuTime(const std::optional<uint64_t>& nanoseconds);
std::string formatMemory(const std::optional<uint64_t>& bytes);

}  // namespace netlab::tools
