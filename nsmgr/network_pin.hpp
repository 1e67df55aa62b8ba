// A stopped node's network namespace, kept alive by a bind mount of it in the lab's directory
// (nodes/NAME/netns), as `ip netns add` keeps one: while its init is gone nothing else holds
// it, and with it would go its interfaces, and its peers' ends of their veth pairs.
#pragma once

#include <optional>
#include <string>

#include "base/fd.hpp"
#include "nsmgr/lab_dir.hpp"

namespace netlab::nsmgr {

// Pins the namespace netns is (replacing an earlier pin of the node's).
void pinNetwork(const LabDirectory& directory, const std::string& node, const Fd& netns);

// The pinned namespace, opened; nullopt when the node has no pin.
std::optional<Fd> openPinnedNetwork(const LabDirectory& directory, const std::string& node);

// Removes the node's pin, if any; returns whether there was one. The namespace dies with its
// last user.
bool unpinNetwork(const LabDirectory& directory, const std::string& node);

}  // namespace netlab::nsmgr
