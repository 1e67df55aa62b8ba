#include "nsmgr/lab_state.hpp"

#include "base/error.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/state_file.hpp"

namespace netlab::nsmgr {
namespace {

LabDirectory openRunningLab(const std::string& lab, LabDirectory::Lock lock) {
  auto directory = LabDirectory::open(lab, lock);
  if (!directory) throw Error("lab `" + lab + "` is not running", ENOENT);
  return std::move(*directory);
}

}  // namespace

nsmgr::LabState readStateFile(const LabDirectory& directory, const std::string& lab) {
  auto text = directory.readFile(kStateFile);
  if (!text) {
    throw Error("lab `" + lab + "` has no recorded state (a bring-up is in progress or crashed; " +
                "`netlab down " + lab + "` removes it)");
  }
  return withContext(directory.pathOf(kStateFile), [&] { return labStateFromJson(*text); });
}

nsmgr::LabState readLabState(const std::string& lab) {
  return readStateFile(openRunningLab(lab, LabDirectory::Lock::Shared), lab);
}

LockedLabState::LockedLabState(const std::string& lab)
    : directory_(openRunningLab(lab, LabDirectory::Lock::Exclusive)),
      state_(readStateFile(directory_, lab)) {}

void LockedLabState::save() const {
  directory_.writeFile(kStateFile, labStateToJson(state_));
}

}  // namespace netlab::nsmgr
