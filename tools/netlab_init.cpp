// netlab-init: PID 1 of every node. netlab's node child execs it with the control socket on
// fd 3 (nsmgr/node_init.hpp); it is nothing on its own.
#include "nsmgr/node_init.hpp"

int main() {
  netlab::nsmgr::runNodeInit();
}
