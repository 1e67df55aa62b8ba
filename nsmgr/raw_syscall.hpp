// System calls for the code that runs between clone (or vfork) and exec in netlab's memory.
//
// glibc reports a failed system call through errno, and so does syscall(2): errno lives in the
// thread's TLS, found through the thread pointer. A child cloned with CLONE_VM and without
// CLONE_SETTLS (a node's launch, the vfork of `exec`) keeps the thread pointer of the thread that
// cloned it, so every errno it wrote would be that thread's, which may be using it at the same
// moment, and the value the child read back could be the parent's. These wrappers make the
// system call directly and return the kernel's result as it is, a value or -errno (what glibc's
// own spawn does with INTERNAL_SYSCALL): the child never reads or writes errno.
//
// A few lines of inline assembly per architecture, x86-64 and aarch64; another architecture
// fails to build here rather than fall back to a wrapper that writes errno.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace netlab::nsmgr::raw {

inline long syscall6(long number, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0,
                     long a6 = 0) noexcept {
#if defined(__x86_64__)
  register long r10 asm("r10") = a4;
  register long r8 asm("r8") = a5;
  register long r9 asm("r9") = a6;
  long result;
  asm volatile("syscall"
               : "=a"(result)
               : "0"(number), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return result;
#elif defined(__aarch64__)
  register long x8 asm("x8") = number;
  register long x0 asm("x0") = a1;
  register long x1 asm("x1") = a2;
  register long x2 asm("x2") = a3;
  register long x3 asm("x3") = a4;
  register long x4 asm("x4") = a5;
  register long x5 asm("x5") = a6;
  asm volatile("svc 0"
               : "+r"(x0)
               : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
               : "memory");
  return x0;
#else
#error "netlab's raw system calls (nsmgr/raw_syscall.hpp) know only x86-64 and aarch64"
#endif
}

// The errno of a failed call (a result in [-4095, -1]), else 0.
inline int errorOf(long result) noexcept {
  return result < 0 && result >= -4095 ? static_cast<int>(-result) : 0;
}

template <typename T>
long asArgument(T value) noexcept {
  if constexpr (std::is_pointer_v<T>) {
    return reinterpret_cast<long>(value);
  } else {
    return static_cast<long>(value);
  }
}

template <typename... Args>
long call(long number, Args... args) noexcept {
  return syscall6(number, asArgument(args)...);
}

inline long write(int fd, const void* data, size_t size) noexcept {
  return call(SYS_write, fd, data, size);
}
inline long openat(int dirFd, const char* path, int flags) noexcept {
  return call(SYS_openat, dirFd, path, flags, 0);
}
inline long dup3(int from, int to, int flags) noexcept {
  return call(SYS_dup3, from, to, flags);
}
inline long fcntl(int fd, int command, long argument) noexcept {
  return call(SYS_fcntl, fd, command, argument);
}
inline long closeRange(unsigned first, unsigned last, unsigned flags) noexcept {
  return call(SYS_close_range, first, last, flags);
}
inline long chdir(const char* path) noexcept {
  return call(SYS_chdir, path);
}
inline long execve(const char* program, char* const* argv, char* const* envp) noexcept {
  return call(SYS_execve, program, argv, envp);
}
inline long prctl(int option, unsigned long argument) noexcept {
  return call(SYS_prctl, option, argument, 0, 0, 0);
}
inline long getppid() noexcept {
  return call(SYS_getppid);
}

// The kernel's sigset_t is 64 bits on both architectures; glibc's is larger.
using KernelSigset = uint64_t;
inline constexpr size_t kKernelSigsetBytes = sizeof(KernelSigset);
inline constexpr int kLastSignal = 64;

// The kernel's struct sigaction (SA_RESTORER is defined on both architectures).
struct KernelSigaction {
  void* handler;
  unsigned long flags;
  void* restorer;
  KernelSigset mask;
};

inline long sigaction(int signal, const KernelSigaction* action, KernelSigaction* old) noexcept {
  return call(SYS_rt_sigaction, signal, action, old, kKernelSigsetBytes);
}
inline long sigprocmask(int how, const KernelSigset* set, KernelSigset* old) noexcept {
  return call(SYS_rt_sigprocmask, how, set, old, kKernelSigsetBytes);
}
// Sleeps until a signal is delivered that set does not block: with every signal blocked, only
// SIGKILL ends the sleep (and the process).
inline long sigsuspend(const KernelSigset* set) noexcept {
  return call(SYS_rt_sigsuspend, set, kKernelSigsetBytes);
}

[[noreturn]] inline void exitNow(int status) noexcept {
  for (;;) call(SYS_exit_group, status);
}

}  // namespace netlab::nsmgr::raw
