#include "nsmgr/rootless.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "base/error.hpp"
#include "nsmgr/lab_dir.hpp"
#include "nsmgr/namespaces.hpp"
#include "nsmgr/node_record.hpp"
#include "nsmgr/process.hpp"

namespace netlab::nsmgr {
namespace {

bool hasEffectiveCapability(int capability) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) < 0) return false;
  return (data[capability / 32].effective & (1U << (capability % 32))) != 0;
}

// A setting that refuses unprivileged user namespaces, when this kernel has it and it is set.
std::optional<std::string> refusingSetting() {
  struct Setting {
    const char* path;
    const char* name;
    const char* refusing;  // the value that refuses them
  };
  constexpr Setting kSettings[] = {
      {"/proc/sys/kernel/unprivileged_userns_clone", "kernel.unprivileged_userns_clone", "0"},
      {"/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
       "kernel.apparmor_restrict_unprivileged_userns", "1"},
      {"/proc/sys/user/max_user_namespaces", "user.max_user_namespaces", "0"},
  };
  for (const Setting& setting : kSettings) {
    try {
      std::string value = readWholeFile(setting.path);
      while (!value.empty() && value.back() == '\n') value.pop_back();
      if (value == setting.refusing) {
        return std::string(setting.name) + " is " + value;
      }
    } catch (const Error&) {
      // Not on this kernel: it cannot be what refuses.
    }
  }
  return std::nullopt;
}

// Why the kernel refused the lab's user namespace, with the setting to change where one is set.
[[noreturn]] void throwUserNamespaceRefusal(int error) {
  if (error == EINVAL) {
    throw SystemError("unshare", "CLONE_NEWUSER (netlab has more than one thread already)", error);
  }
  const std::string refused =
      "unshare(CLONE_NEWUSER) for the lab's user namespace: " + errnoText(error) + ": ";
  if (auto setting = refusingSetting()) {
    throw Error(refused + *setting +
                    ": this machine refuses user namespaces to ordinary users (change the setting "
                    "as root, or run netlab as root)",
                error);
  }
  if (error == ENOSPC) {
    throw Error(refused + "user.max_user_namespaces (or your user's share of it) is reached",
                error);
  }
  throw Error(refused + "seccomp or a security module may refuse user namespaces here", error);
}

// The user namespace that owns the node's PID namespace: the lab's (the node is cloned with its
// PID namespace by netlab, root of the lab's user namespace). Opened while the node is known to
// be the recorded one: its pidfd is checked after /proc/PID/ns/pid is open.
std::optional<Fd> labNamespaceOf(const LabDirectory& directory, const std::string& node) {
  std::optional<NodeRecord> record;
  try {
    record = readNodeRecord(directory, node);
  } catch (const Error&) {
    return std::nullopt;  // `down` reports such a record; another node will do here
  }
  if (!record) return std::nullopt;
  std::optional<Fd> pidfd = openProcess(record->pid, record->startTime);
  if (!pidfd) return std::nullopt;
  Fd pidns = openNamespace(record->pid, "pid");
  if (!signalProcess(*pidfd, 0)) return std::nullopt;  // gone, its pid maybe reused meanwhile
  Fd owner(::ioctl(pidns.get(), NS_GET_USERNS));
  if (!owner) throw SystemError("ioctl(NS_GET_USERNS)", "PID namespace of node " + node);
  return owner;
}

}  // namespace

bool rootless() {
  static const bool unprivileged = ::geteuid() != 0 && !hasEffectiveCapability(CAP_SYS_ADMIN);
  return unprivileged;
}

std::vector<std::string> rootlessRefusals(const topo::Plan& plan) {
  std::vector<std::string> refusals;
  if (!rootless()) return refusals;
  for (const auto& node : plan.nodes) {
    if (node.isolatedIds) {
      refusals.push_back("node " + node.name +
                         " has \"userns\": \"isolated\", which maps it to a block of host ids: "
                         "without root, netlab's lab has only your own id (subordinate ranges "
                         "through newuidmap are not supported yet)");
    }
  }
  return refusals;
}

void enterNewLabUserNamespace() {
  if (!rootless()) return;
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  if (::unshare(CLONE_NEWUSER) < 0) throwUserNamespaceRefusal(errno);
  // The kernel lets an unprivileged process map only its own ids, and its own gid only once
  // setgroups is denied (else dropping a group could widen what the process may read).
  writeWholeFile("/proc/self/setgroups", "deny");
  writeWholeFile("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n");
  writeWholeFile("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n");
}

bool enterLabUserNamespace(const std::string& lab) {
  if (!rootless()) return true;
  std::optional<Fd> userns;
  {
    // Shared, and only while the node is looked up: the verb locks the lab again as it needs.
    std::optional<LabDirectory> directory = LabDirectory::open(lab, LabDirectory::Lock::Shared);
    if (!directory) return false;
    for (const auto& node : recordedNodeNames(*directory)) {
      if ((userns = labNamespaceOf(*directory, node))) break;
    }
  }
  if (!userns) return false;
  // A lab's namespace is one this user made: the kernel records its creator as its owner.
  uid_t owner = 0;
  if (::ioctl(userns->get(), NS_GET_OWNER_UID, &owner) < 0) {
    throw SystemError("ioctl(NS_GET_OWNER_UID)", "user namespace of lab " + lab);
  }
  if (owner != ::geteuid()) {
    throw Error("the user namespace of lab `" + lab + "` belongs to uid " + std::to_string(owner) +
                    ", not to you (uid " + std::to_string(::geteuid()) + "); refusing to enter it",
                EPERM);
  }
  if (::setns(userns->get(), CLONE_NEWUSER) < 0) {
    throw SystemError("setns", "user namespace of lab " + lab + " (CLONE_NEWUSER)");
  }
  return true;
}

}  // namespace netlab::nsmgr
