// A netlink session inside a running node's network namespace, for as long as it lives: the
// node is found by its recorded identity (pidfd), and the calling thread returns to its own
// namespace afterwards.
#pragma once

#include <string>

#include "nsmgr/state_file.hpp"
#include "netlink/session.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/namespaces.hpp"

namespace netlab::nsmgr {

class NodeSession {
 public:
  NodeSession(const nsmgr::LabState& state, const std::string& node)
      : handle_(openNode(state, node)),
        visit_(handle_.pidfd, "node " + node),
        session_(netlink::Session::openInCurrentNamespace()) {}
  netlink::Session& operator*() { return session_; }
  netlink::Session* operator->() { return &session_; }

 private:
  NodeHandle handle_;
  NetworkNamespaceVisit visit_;
  netlink::Session session_;
};

}  // namespace netlab::nsmgr
