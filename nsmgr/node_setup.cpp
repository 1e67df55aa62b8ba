#include "nsmgr/node_setup.hpp"

#include <sys/mount.h>

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <sstream>

#include "base/fd.hpp"
#include "image/image_store.hpp"
#include "nsmgr/mountinfo.hpp"
#include "nsmgr/rootless.hpp"

namespace netlab::nsmgr {
namespace {

constexpr unsigned long kNoDevices = MS_NOSUID | MS_NODEV;
constexpr unsigned long kNoExec = MS_NOSUID | MS_NODEV | MS_NOEXEC;

MountStep freshMount(const char* fsType, const std::string& target, unsigned long flags,
                     const std::string& data = "") {
  MountStep step;
  step.what = std::string(fsType) + " on " + target;
  step.source = fsType;
  step.target = target;
  step.fsType = fsType;
  step.flags = flags;
  step.data = data;
  return step;
}

MountStep bindMount(const std::string& source, const std::string& target, bool readOnly) {
  MountStep step;
  step.what = "bind " + source + " on " + target;
  step.source = source;
  step.target = target;
  step.flags = MS_BIND | MS_REC;
  step.bindSource = true;
  step.remountReadOnly = readOnly;
  return step;
}

// Only the node's own filesystems may gain files netlab creates: its tmpfs, and its root when
// that is an overlay of its own; elsewhere the tree is the host's.
bool ownedByNode(const std::string& path, bool ownRoot) {
  return ownRoot || path.rfind("/tmp/", 0) == 0 || path.rfind("/run/", 0) == 0;
}

// A fresh filesystem on one of the node's standard directories, which an image may lack.
MountStep standardMount(const char* fsType, const std::string& target, unsigned long flags,
                        bool ownRoot, const std::string& data = "") {
  MountStep step = freshMount(fsType, target, flags, data);
  step.createTarget = ownRoot;
  step.targetIsDirectory = true;
  return step;
}

// The folders of the files netlab generates (a routing suite's configuration: /etc/frr), in
// order. Each gets an empty tmpfs of the node's own: the host's folder is the suite's user's
// (mode 0750), which node root cannot enter in a rootless lab, and whatever the suite writes
// beside its files (vtysh's `write`) stays in the node.
std::vector<std::string> generatedFolders(const topo::Node& node) {
  std::vector<std::string> folders;
  for (const auto& file : node.files) {
    if (!file.generated) continue;
    std::string folder = std::filesystem::path(file.target).parent_path();
    if (std::find(folders.begin(), folders.end(), folder) == folders.end())
      folders.push_back(folder);
  }
  return folders;
}

// With node root mapped to host root, writable /proc/sys would let a node change host-wide
// settings (kernel.*, vm.*); only /proc/sys/net belongs to the node's namespace. The same holds
// for the other host-wide files of /proc that container runtimes protect (runc's defaults):
// interrupt affinity, buses, filesystems' settings read-only; the kernel's memory, keys, timers
// and scheduler internals masked. The node's mounts are locked (kJoinedNamespaces), so it cannot
// undo this.
void protectProc(NodeSetup& setup) {
  // /proc/sys/net is bound first, so the recursive bind of /proc/sys carries it along, and the
  // read-only remount of /proc/sys leaves it writable.
  for (auto [path, readOnly] :
       {std::pair{"/proc/sys/net", false}, std::pair{"/proc/sys", true},
        std::pair{"/proc/sysrq-trigger", true}, std::pair{"/proc/irq", true},
        std::pair{"/proc/bus", true}, std::pair{"/proc/fs", true}}) {
    MountStep step = bindMount(path, path, readOnly);
    step.sourceInNode = true;
    step.skipIfTargetMissing = true;  // each depends on the kernel's configuration
    setup.mounts.push_back(step);
  }
  for (const char* file : {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
                           "/proc/latency_stats", "/proc/timer_stats"}) {
    MountStep step = bindMount("/dev/null", file, true);
    step.what = std::string("mask ") + file;
    step.skipIfTargetMissing = true;
    setup.mounts.push_back(step);
  }
}

// Directories that show the host's hardware and firmware: an empty read-only tmpfs over each.
void maskDirectories(NodeSetup& setup, std::initializer_list<const char*> directories) {
  for (const char* directory : directories) {
    MountStep step = freshMount("tmpfs", directory, kNoExec | MS_RDONLY, "size=0,mode=0555");
    step.what = std::string("mask ") + directory;
    step.skipIfTargetMissing = true;
    setup.mounts.push_back(step);
  }
}

// The files netlab writes for the node alone belong to its root, whoever that is on the host.
std::optional<uint32_t> nodeRootOnHost(const topo::Node& node) {
  if (node.isolatedIds) return node.isolatedIds->first;
  return std::nullopt;
}

void addTopologyMounts(const topo::Node& node, const LabDirectory& directory,
                       const std::string& owner, bool ownRoot, NodeSetup& setup) {
  for (const auto& folder : generatedFolders(node)) {
    setup.mounts.push_back(standardMount("tmpfs", folder, kNoDevices, ownRoot, "mode=755" + owner));
  }
  for (const auto& mount : node.mounts) {
    MountStep step = bindMount(mount.source, mount.target, mount.readOnly);
    step.createTarget = ownedByNode(mount.target, ownRoot);
    step.targetIsDirectory = std::filesystem::is_directory(mount.source);
    setup.mounts.push_back(step);
  }
  for (size_t i = 0; i < node.files.size(); ++i) {
    const auto& file = node.files[i];
    std::string stored = "nodes/" + node.name + "/file" + std::to_string(i);
    directory.writeFile(stored, file.content, file.mode, nodeRootOnHost(node));
    MountStep step = bindMount(directory.pathOf(stored), file.target, false);
    step.createTarget = ownedByNode(file.target, ownRoot) || file.generated;
    setup.mounts.push_back(step);
  }
}

// The host's root, an image directory, or an imported image's (topo::RootFilesystem::image).
std::string lowerLayerOf(const topo::RootFilesystem& root) {
  if (root.image.empty()) return "/";
  if (root.image.find('/') != std::string::npos) return root.image;
  return image::imageRoot(root.image).string();
}

OverlayRoot overlayRootOf(const topo::Node& node, const LabDirectory& directory,
                          const SharedSetup& shared) {
  const std::string layers = "nodes/" + node.name + "/layers";
  directory.makeDirectory(layers);
  OverlayRoot root;
  root.layers = directory.pathOf(layers);
  root.lower = lowerLayerOf(node.root);
  if (node.root.image.empty()) root.hostMounts = shared.hostMounts;
  root.userXattrs = rootless();
  return root;
}

}  // namespace

std::string hostsFileFor(const topo::Plan& plan) {
  std::ostringstream hosts;
  hosts << "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  hosts << "# lab " << plan.name << "\n";
  for (const auto& node : plan.nodes) {
    for (const auto& address : node.loopbackAddresses) {
      hosts << toString(address.address) << '\t' << node.name << '\n';
    }
    for (const auto& interface : node.interfaces) {
      for (const auto& address : interface.addresses) {
        hosts << toString(address.address) << '\t' << node.name << ' ' << node.name << '-'
              << interface.name << '\n';
      }
    }
  }
  return hosts.str();
}

SharedSetup prepareSharedSetup(const topo::Plan& plan) {
  SharedSetup shared{hostsFileFor(plan), {}};
  const bool overHostRoot = std::any_of(plan.nodes.begin(), plan.nodes.end(), [](const auto& node) {
    return node.root.mode == topo::RootMode::Overlay && node.root.image.empty();
  });
  if (overHostRoot) {
    shared.hostMounts = mountsBelowRoot(parseMountinfo(readWholeFile("/proc/self/mountinfo")));
  }
  return shared;
}

NodeSetup prepareNodeSetup(const topo::Node& node, const LabDirectory& directory,
                           const SharedSetup& shared) {
  std::string nodeDirectory = "nodes/" + node.name;
  directory.makeDirectory(nodeDirectory);
  directory.writeFile(nodeDirectory + "/hostname", node.hostname + "\n", 0644,
                      nodeRootOnHost(node));
  // A copy of its own: a line one node adds to its /etc/hosts stays in that node.
  directory.writeFile(nodeDirectory + "/hosts", shared.hosts, 0644, nodeRootOnHost(node));

  NodeSetup setup;
  setup.hostname = node.hostname;
  const bool ownRoot = node.root.mode == topo::RootMode::Overlay;
  if (ownRoot) setup.root = overlayRootOf(node, directory, shared);
  setup.mounts.push_back(standardMount("proc", "/proc", kNoExec, ownRoot));
  protectProc(setup);
  maskDirectories(setup, {"/proc/acpi", "/proc/scsi", "/proc/asound"});
  // Read-only for the same reason as /proc/sys (/sys/kernel, /sys/module): the node changes its
  // own interfaces over netlink. Without child mounts, so a node can still mount a read-only
  // sysfs of a network namespace of its own (`ip netns exec`).
  // Read-only from its first mount, so the network namespace's sysfs superblock is: a new
  // sysfs node root mounts shares it (one per network namespace), and the kernel refuses a
  // writable one (a read-only mount alone did not stop Debian's 6.1 from allowing it, and node
  // root from writing host-wide files such as /sys/kernel/mm through it).
  MountStep sysfs = standardMount("sysfs", "/sys", kNoExec | MS_RDONLY, ownRoot);
  sysfs.remountReadOnly = true;
  // The host's /sys goes, not only out of sight: the kernel lets node root mount a new sysfs
  // as writable as any whole sysfs in its mount namespace, covered ones included, and a
  // host's /sys, writable, with only empty mount points below it (Debian's), would let it
  // write host-wide settings through one. Then only the node's, read-only, counts: a new
  // sysfs must be read-only too.
  sysfs.replaceMounted = true;
  // /sys/firmware stays visible (read-only): a mount over it would make the kernel refuse the
  // node a sysfs of its own, as `ip netns exec` mounts.
  setup.mounts.push_back(sysfs);
  // Mounted by host root, so owned by node root only when told.
  std::string owner;
  if (auto root = nodeRootOnHost(node)) {
    owner = ",uid=" + std::to_string(*root) + ",gid=" + std::to_string(*root);
  }
  setup.mounts.push_back(standardMount("tmpfs", "/tmp", kNoDevices, ownRoot, "mode=1777" + owner));
  setup.mounts.push_back(standardMount("tmpfs", "/run", kNoDevices, ownRoot, "mode=755" + owner));
  MountStep hostname =
      bindMount(directory.pathOf(nodeDirectory + "/hostname"), "/etc/hostname", false);
  hostname.skipIfTargetMissing = !ownRoot;
  hostname.createTarget = ownRoot;
  setup.mounts.push_back(hostname);
  MountStep hostsFile = bindMount(directory.pathOf(nodeDirectory + "/hosts"), "/etc/hosts", false);
  hostsFile.createTarget = ownRoot;
  setup.mounts.push_back(hostsFile);
  addTopologyMounts(node, directory, owner, ownRoot, setup);
  return setup;
}

}  // namespace netlab::nsmgr
