// netlab run by an ordinary user (docs/rootless.md). Such a netlab works as root of a user
// namespace of the lab's own, made by `up` with a single-id map (uid and gid 0 are the user's),
// which owns every node's namespaces; later commands enter it again through a node's PID
// namespace, which it owns. A user namespace may only be created or entered by a process with a
// single thread: these run before netlab starts any.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "topo/plan.hpp"

namespace netlab::nsmgr {

// Whether netlab was started without privilege: not root, and without CAP_SYS_ADMIN in its
// user namespace. Decided at the first call, which comes before netlab enters a lab's user
// namespace (where it is root).
bool rootless();

// How the lab's user namespace was mapped by enterNewLabUserNamespace.
struct LabMapping {
  uint32_t ids = 1;  // ids 0..ids-1 of the lab: the user's own, then a subordinate range's
  // Why the lab has the user's id alone (no newuidmap, or no range for the user), with how to
  // give it a range; empty when it has one, or for a netlab with privilege.
  std::string singleIdReason;
};

// What a rootless lab cannot have, each with its reason; empty when it can be built. Checked
// before the lab's user namespace is made.
std::vector<std::string> rootlessRefusals(const topo::Plan& plan);
// What a rootless lab mapped with the user's id alone cannot have (FRR, whose daemons switch
// users), each with its reason and the range to add.
std::vector<std::string> singleIdRefusals(const topo::Plan& plan, const LabMapping& mapping);

// Without privilege, a node's root can be an overlay of an image only: the kernel lets no user
// namespace but the host's overlay a filesystem with mounts on it (the overlay would show what
// they cover), and the host's root has /proc, /sys and /dev. The nodes that would have the
// host's root below an overlay share the host's root instead; returns how many.
size_t shareHostRootWithoutPrivilege(topo::Plan& plan);

// For `up` without privilege: makes the lab's user namespace and moves netlab into it, as root
// there. With newuidmap/newgidmap and a range for the user in /etc/subuid and /etc/subgid, the
// lab maps root and that range (written by those setuid helpers from the host's namespace);
// else the user's id alone. Throws, naming the kernel's reason and the setting to change, when
// the kernel refuses, and the helpers' failure when they fail.
LabMapping enterNewLabUserNamespace();

// How many ids the user namespace netlab is in maps from 0 (in a rootless lab: 1, or 1 + a
// subordinate range). Read once, after netlab has entered the lab's namespace.
uint32_t labIdCount();

// For every other verb without privilege: moves netlab into the user namespace of the lab, found
// through a live node (its record's pid and start time). Returns false when no node of the lab
// is alive, so there is no namespace left to enter (the lab's state is the user's own files);
// true, doing nothing, for a netlab with privilege.
bool enterLabUserNamespace(const std::string& lab);

// The first range a /etc/subuid or /etc/subgid text gives the user, named by name or by number
// (as newuidmap reads it); nullopt when none does.
std::optional<topo::IdRange> findSubordinateRange(std::string_view text, const std::string& name,
                                                  uint32_t id);

// How many ids a uid_map or gid_map text maps from 0 on, contiguously.
uint32_t idsMappedFromZero(std::string_view text);

}  // namespace netlab::nsmgr
