#include "nsmgr/rootless.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <pwd.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "nsmgr/cgroups.hpp"
#include "nsmgr/lab_dir.hpp"
#include "nsmgr/namespaces.hpp"
#include "nsmgr/node_record.hpp"
#include "nsmgr/process.hpp"
#include "topo/routing.hpp"
#include "topo/units.hpp"

namespace netlab::nsmgr {
namespace {

struct SubordinateIds {
  std::string newuidmap, newgidmap;
  topo::IdRange uids, gids;
};

uint32_t mappedFromZero(const char* file) {
  return idsMappedFromZero(readWholeFile(file));
}

// The helper's life, in a fork of single-threaded netlab: waits for the go (end-of-file: netlab
// is gone), then runs each program in turn from the host's user namespace; exits 0 when both
// succeeded. System calls only.
[[noreturn]] void runMapHelpers(int goRead, int goWrite, char* const* const (&programs)[2]) {
  ::close(goWrite);
  char byte = 0;
  if (::read(goRead, &byte, 1) != 1) ::_exit(126);
  char* const environment[] = {nullptr};
  for (char* const* argv : programs) {
    const pid_t pid = ::fork();
    if (pid < 0) ::_exit(125);
    if (pid == 0) {
      ::execve(argv[0], argv, environment);
      ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) ::_exit(124);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ::_exit(1);
  }
  ::_exit(0);
}

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

// The first range `file` (/etc/subuid or /etc/subgid) gives the user; none without the file.
std::optional<topo::IdRange> subordinateRange(const char* file, const std::string& name,
                                              uint32_t id) {
  try {
    return findSubordinateRange(readWholeFile(file), name, id);
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::optional<std::string> programOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream directories(path && *path ? path : "/usr/bin:/bin");
  for (std::string directory; std::getline(directories, directory, ':');) {
    if (directory.empty()) continue;
    std::string candidate = directory + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// The user's subordinate ids and the helpers that map them, or why the lab cannot have them.
std::optional<SubordinateIds> subordinateIds(std::string& whyNot) {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  const passwd* entry = ::getpwuid(uid);  // netlab has one thread: no other caller
  const std::string name = entry ? entry->pw_name : std::to_string(uid);
  const std::string range = "add `" + name + ":100000:65536` to /etc/subuid and /etc/subgid";
  SubordinateIds ids;
  auto uidHelper = programOnPath("newuidmap");
  auto gidHelper = programOnPath("newgidmap");
  if (!uidHelper || !gidHelper) {
    whyNot =
        "no newuidmap and newgidmap on PATH (Debian's uidmap package); install it and " + range;
    return std::nullopt;
  }
  auto uids = subordinateRange("/etc/subuid", name, uid);
  auto gids = subordinateRange("/etc/subgid", name, gid);
  if (!entry || !uids || !gids) {
    whyNot = "no subordinate range for " + name + " in /etc/subuid and /etc/subgid: " + range;
    return std::nullopt;
  }
  return SubordinateIds{*uidHelper, *gidHelper, *uids, *gids};
}

// The maps of the lab's namespace with the user's range, written from the host's namespace by
// the distribution's setuid helpers (only they may map ids the user does not own). The helper
// process is forked before the unshare, so it stays in the host's namespace, and waits for it.
// netlab has a single thread here; still, the child runs only system calls on what was
// prepared before the fork.
void mapWithSubordinateRange(const SubordinateIds& ids) {
  const std::string pid = std::to_string(::getpid());
  // "PID 0 OWN 1 1 FIRST COUNT": the caller's own id as 0, the range from 1 on.
  auto arguments = [&](const std::string& helper, uid_t own, const topo::IdRange& range) {
    return std::vector<std::string>{helper,
                                    pid,
                                    "0",
                                    std::to_string(own),
                                    "1",
                                    "1",
                                    std::to_string(range.first),
                                    std::to_string(range.count)};
  };
  auto argv = [](const std::vector<std::string>& words) {
    std::vector<char*> pointers;
    for (const auto& word : words) pointers.push_back(const_cast<char*>(word.c_str()));
    pointers.push_back(nullptr);
    return pointers;
  };
  const std::vector<std::string> uidArguments = arguments(ids.newuidmap, ::geteuid(), ids.uids);
  const std::vector<std::string> gidArguments = arguments(ids.newgidmap, ::getegid(), ids.gids);
  std::vector<char*> uidArgv = argv(uidArguments), gidArgv = argv(gidArguments);
  char* const* programs[] = {uidArgv.data(), gidArgv.data()};

  int go[2];
  if (::pipe2(go, O_CLOEXEC) < 0) throw SystemError("pipe2", "go signal of newuidmap");
  Fd goRead(go[0]), goWrite(go[1]);
  const pid_t child = ::fork();
  if (child < 0) throw SystemError("fork", "the helper that runs newuidmap and newgidmap");
  if (child == 0) runMapHelpers(goRead.get(), goWrite.get(), programs);
  ChildProcess helper(child, Fd());
  goRead.reset();
  if (::unshare(CLONE_NEWUSER) < 0) throwUserNamespaceRefusal(errno);
  const char byte = 'g';
  if (::write(goWrite.get(), &byte, 1) != 1) throw SystemError("write", "go signal of newuidmap");
  const int status = waitForChild(child);
  helper.release();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error(ids.newuidmap + " or " + ids.newgidmap + " refused to map ids " +
                    std::to_string(ids.uids.first) + ".." +
                    std::to_string(ids.uids.first + ids.uids.count - 1) +
                    " into the lab's user namespace (its message is above; exit status " +
                    std::to_string(exitCodeOf(status)) + ")",
                EPERM);
  }
}

}  // namespace

std::optional<topo::IdRange> findSubordinateRange(std::string_view text, const std::string& name,
                                                  uint32_t id) {
  const std::string number = std::to_string(id);
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const size_t colon = line.find(':'), second = line.rfind(':');
    if (colon == std::string_view::npos || colon == second) continue;
    const std::string_view owner = line.substr(0, colon);
    if (owner != name && owner != number) continue;
    const std::string_view start = line.substr(colon + 1, second - colon - 1);
    const std::string_view size = line.substr(second + 1);
    uint32_t first = 0, count = 0;
    auto [startEnd, startError] = std::from_chars(start.data(), start.data() + start.size(), first);
    auto [sizeEnd, sizeError] = std::from_chars(size.data(), size.data() + size.size(), count);
    if (startError != std::errc() || startEnd != start.data() + start.size() ||
        sizeError != std::errc() || sizeEnd != size.data() + size.size() || count == 0) {
      continue;
    }
    return topo::IdRange{first, count};
  }
  return std::nullopt;
}

uint32_t idsMappedFromZero(std::string_view text) {
  std::istringstream lines{std::string(text)};
  uint64_t next = 0;
  for (uint64_t inside = 0, outside = 0, count = 0; lines >> inside >> outside >> count;) {
    if (inside == next) next += count;
  }
  return static_cast<uint32_t>(std::min<uint64_t>(next, UINT32_MAX));
}

bool rootless() {
  static const bool unprivileged = ::geteuid() != 0 && !hasEffectiveCapability(CAP_SYS_ADMIN);
  return unprivileged;
}

std::vector<std::string> rootlessRefusals(const topo::Plan& plan) {
  std::vector<std::string> refusals;
  if (!rootless()) return refusals;
  const bool delegated = inDelegatedCgroup();
  for (const auto& node : plan.nodes) {
    if (node.isolatedIds) {
      refusals.push_back("node " + node.name +
                         " has \"userns\": \"isolated\", which maps it to a block of host ids "
                         "of its own: without root, netlab has only your id and your "
                         "subordinate range, all in the lab's map (not supported yet)");
    }
    if (node.resources.any() && !delegated) {
      refusals.push_back("node " + node.name + " has `resources` (" +
                         topo::describeResources(node.resources) +
                         "), which netlab applies through cgroups of the node's own: without "
                         "root it makes them only in a cgroup v2 cgroup delegated to you, and "
                         "the one it runs in is not yours to divide (start it with `systemd-run "
                         "--user --scope -p Delegate=yes netlab up ...`; docs/rootless.md)");
    }
  }
  return refusals;
}

size_t shareHostRootWithoutPrivilege(topo::Plan& plan) {
  size_t shared = 0;
  if (!rootless()) return shared;
  for (auto& node : plan.nodes) {
    if (node.root.mode == topo::RootMode::Overlay && node.root.image.empty()) {
      node.root.mode = topo::RootMode::Host;
      ++shared;
    }
  }
  return shared;
}

std::vector<std::string> singleIdRefusals(const topo::Plan& plan, const LabMapping& mapping) {
  if (mapping.singleIdReason.empty()) return {};
  std::vector<std::string> frrNodes;
  for (const auto& node : plan.nodes) {
    if (topo::startsFrr(node)) frrNodes.push_back(node.name);
  }
  if (frrNodes.empty()) return {};
  const bool one = frrNodes.size() == 1;
  std::string names = frrNodes[0];
  for (size_t i = 1; i < frrNodes.size(); ++i) names += ", " + frrNodes[i];
  return {std::string(one ? "node " : "nodes ") + names + (one ? " runs" : " run") +
          " FRR, whose daemons switch to FRR's own user, and the lab maps your own id alone (" +
          mapping.singleIdReason + ")"};
}

LabMapping enterNewLabUserNamespace() {
  if (!rootless()) return {};
  LabMapping mapping;
  std::string whyNot;
  if (std::optional<SubordinateIds> subordinate = subordinateIds(whyNot)) {
    mapWithSubordinateRange(*subordinate);
    mapping.ids = 1 + std::min(subordinate->uids.count, subordinate->gids.count);
    return mapping;
  }
  mapping.singleIdReason = whyNot;
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  if (::unshare(CLONE_NEWUSER) < 0) throwUserNamespaceRefusal(errno);
  // The kernel lets an unprivileged process map only its own ids, and its own gid only once
  // setgroups is denied (else dropping a group could widen what the process may read).
  writeWholeFile("/proc/self/setgroups", "deny");
  writeWholeFile("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n");
  writeWholeFile("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n");
  return mapping;
}

uint32_t labIdCount() {
  static const uint32_t count =
      std::min(mappedFromZero("/proc/self/uid_map"), mappedFromZero("/proc/self/gid_map"));
  return count;
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
