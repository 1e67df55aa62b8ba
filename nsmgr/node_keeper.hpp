// How a node's init ended, when it ended by itself. Only its parent learns a process's exit
// status, reliably on every kernel (a pidfd tells it to anyone only from Linux 6.15, and only
// once the parent has reaped it), and the parent of a node's init is the netlab that cloned it.
// So a command that starts inits (`up`, `node`, `apply`) does its work in a child, the worker,
// while the process the shell started waits for its exit code, passes it the signals the user
// sends, and returns. When the work has left inits behind, the worker stays as their keeper:
// it leaves the terminal and execs `netlab __keep LABDIR`, which reaps each init as it ends,
// writes how to exits/PID in the lab's directory, and ends with the last of them. `down` waits
// for it through the lock it holds on keepers/PID.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "nsmgr/lab_dir.hpp"
#include "nsmgr/report.hpp"

namespace netlab::nsmgr {

// How a child ended, as waitid tells it; as a record (exits/PID), and back (which throws on a
// record toRecord did not write).
InitExit initExitOf(const siginfo_t& child);
std::string toRecord(const InitExit& exit);
InitExit initExitFromRecord(const std::string& record);

// Runs command (which returns an exit code) in the worker, as above, and returns its exit code.
// The worker dies with this process until it is done (SIGKILL of the command kills the work, as
// it would without a worker); a signal that killed the worker kills this process too.
int runKeepingInits(const std::function<int()>& command);

// In the worker: the pid of the process that waits for it (the command the shell started);
// nullopt outside runKeepingInits.
std::optional<pid_t> waitingCommand();

// Called by the worker before it starts inits of the lab: it keeps them once done. Does nothing
// outside runKeepingInits (in the tests of nsmgr), or when called again. A failure is said on
// stderr and costs only the exit statuses.
void keepExitStatuses(const LabDirectory& directory);

// The keeper (`netlab __keep LABDIR`, its lock on fd 3): returns once it has no child left.
int runNodeKeeper(const std::string& labPath);

// What the keeper recorded of the init that had this pid; nullopt when nothing (it has not
// ended, or ended unseen: its keeper was killed, or it was started before netlab kept them).
std::optional<InitExit> recordedExit(const LabDirectory& directory, pid_t pid);
// Removes the record of an earlier init that had pid, now a new init's.
void forgetExit(const LabDirectory& directory, pid_t pid);

// Waits until every keeper of the lab has ended, at most timeout (`down`, once the nodes have).
void awaitKeepers(const LabDirectory& directory, std::chrono::milliseconds timeout);

}  // namespace netlab::nsmgr
