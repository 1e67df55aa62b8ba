#include "nsmgr/kernel_features.hpp"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.hpp"

namespace netlab::nsmgr {
namespace {

// Makes one system call fail with ENOSYS in this process, as on a kernel without it.
void withoutSystemCall(long number) {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(number), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    ::_exit(3);
  }
}

// In a child without that call: 0 when the check names the feature and refuses, 1 otherwise.
int childSeesItMissing(long number, const char* feature) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    withoutSystemCall(number);
    int status = 1;
    try {
      requireKernelFeatures();
    } catch (const Error& error) {
      const std::string message = error.what();
      if (message.find(feature) != std::string::npos && error.errnoValue() == ENOSYS) status = 0;
    }
    ::_exit(status);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

TEST(KernelFeatures, ThisKernelHasThemAll) {
  EXPECT_TRUE(missingKernelFeatures().empty());
  EXPECT_NO_THROW(requireKernelFeatures());
}

TEST(KernelFeatures, AMissingCallIsNamedWithItsVersion) {
  EXPECT_EQ(childSeesItMissing(SYS_openat2, "openat2 (Linux 5.6)"), 0);
  EXPECT_EQ(childSeesItMissing(SYS_pidfd_open, "pidfd_open (Linux 5.3)"), 0);
  EXPECT_EQ(childSeesItMissing(SYS_pidfd_send_signal, "pidfd_send_signal (Linux 5.1)"), 0);
  EXPECT_EQ(childSeesItMissing(SYS_close_range, "CLOSE_RANGE_UNSHARE (Linux 5.9)"), 0);
}

}  // namespace
}  // namespace netlab::nsmgr
