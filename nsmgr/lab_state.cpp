#include "nsmgr/lab_state.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/state_file.hpp"
#include "topo/names.hpp"

namespace netlab::nsmgr {

LabDirectory openRunningLab(const std::string& lab, LabDirectory::Lock lock) {
  auto directory = LabDirectory::open(lab, lock);
  if (!directory) throw Error("lab `" + lab + "` is not running", ENOENT);
  return std::move(*directory);
}

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

std::optional<nsmgr::LabState> peekLabState(const std::string& lab) {
  if (!topo::isValidLabName(lab)) return std::nullopt;
  const std::string path = stateRootPath() + "/" + lab + "/" + kStateFile;
  Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  struct stat status {};
  if (!file || ::fstat(file.get(), &status) < 0 || !S_ISREG(status.st_mode) ||
      status.st_uid != ::geteuid()) {
    return std::nullopt;
  }
  std::string text;
  char buffer[16384];
  ssize_t got = 0;
  while ((got = ::read(file.get(), buffer, sizeof buffer)) > 0) text.append(buffer, got);
  if (got < 0) return std::nullopt;
  try {
    return labStateFromJson(text);
  } catch (const Error&) {
    return std::nullopt;
  }
}

LockedLabState::LockedLabState(const std::string& lab)
    : directory_(openRunningLab(lab, LabDirectory::Lock::Exclusive)),
      state_(readStateFile(directory_, lab)) {}

void LockedLabState::save() const {
  directory_.writeFile(kStateFile, labStateToJson(state_));
}

}  // namespace netlab::nsmgr
