// netlab run by an ordinary user (docs/rootless.md). Such a netlab works as root of a user
// namespace of the lab's own, made by `up` with a single-id map (uid and gid 0 are the user's),
// which owns every node's namespaces; later commands enter it again through a node's PID
// namespace, which it owns. A user namespace may only be created or entered by a process with a
// single thread: these run before netlab starts any.
#pragma once

#include <string>
#include <vector>

#include "topo/plan.hpp"

namespace netlab::nsmgr {

// Whether netlab was started without privilege: not root, and without CAP_SYS_ADMIN in its
// user namespace. Decided at the first call, which comes before netlab enters a lab's user
// namespace (where it is root).
bool rootless();

// What a rootless lab cannot have yet, each with its reason; empty when it can be built.
std::vector<std::string> rootlessRefusals(const topo::Plan& plan);

// For `up` without privilege: makes the lab's user namespace and moves netlab into it, as root
// there. Throws, naming the kernel's reason and the setting to change, when the kernel refuses.
void enterNewLabUserNamespace();

// For every other verb without privilege: moves netlab into the user namespace of the lab, found
// through a live node (its record's pid and start time). Returns false when no node of the lab
// is alive, so there is no namespace left to enter (the lab's state is the user's own files);
// true, doing nothing, for a netlab with privilege.
bool enterLabUserNamespace(const std::string& lab);

}  // namespace netlab::nsmgr
