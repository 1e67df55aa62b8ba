// What `exec` and `down` need of a running node, in one small file per node
// (nodes/NAME/init in the lab's directory), so that neither parses the lab's whole state: for
// a thousand nodes that takes longer than running a command.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nsmgr/lab_dir.hpp"

namespace netlab::nsmgr {

struct NodeRecord {
  pid_t pid = 0;
  uint64_t startTime = 0;        // identifies the process together with its pid
  std::vector<std::string> env;  // what commands run in the node see, "NAME=value"
};

void writeNodeRecord(const LabDirectory& directory, const std::string& node,
                     const NodeRecord& record);
// nullopt when the node has no record (a bring-up that never finished).
std::optional<NodeRecord> readNodeRecord(const LabDirectory& directory, const std::string& node);
// The nodes that have an entry in the lab's `nodes` (whatever it is: readNodeRecord refuses one
// that is not netlab's).
std::vector<std::string> recordedNodeNames(const LabDirectory& directory);

}  // namespace netlab::nsmgr
