// A running lab's state file (state.json in its directory): the plan it was built from, with
// the changes made to it since, and how to find its nodes.
#pragma once

#include <optional>
#include <string>

#include "nsmgr/lab_dir.hpp"
#include "nsmgr/state_file.hpp"
#include "topo/plan.hpp"

namespace netlab::nsmgr {

inline constexpr const char* kStateFile = "state.json";

// The directory of a running lab, locked; throws when there is no such lab.
LabDirectory openRunningLab(const std::string& lab, LabDirectory::Lock lock);
// The state of a lab whose directory is open; throws when there is none yet.
nsmgr::LabState readStateFile(const LabDirectory& directory, const std::string& lab);

// The recorded state read without the lab's lock, for shell completion, which must not wait
// behind a running `up`: the file is replaced atomically, so it is whole. Read only when it is a
// regular file of this user's; nullopt when there is none or it cannot be read.
std::optional<nsmgr::LabState> peekLabState(const std::string& lab);

// The state held under the lab's exclusive lock, for a change: no other command reads or
// changes it until this is gone, and save() replaces the file atomically.
class LockedLabState {
 public:
  explicit LockedLabState(const std::string& lab);
  nsmgr::LabState& state() { return state_; }
  const LabDirectory& directory() const { return directory_; }
  void save() const;

 private:
  LabDirectory directory_;
  nsmgr::LabState state_;
};

}  // namespace netlab::nsmgr
