// Errors carry what failed (the operation), on what (the object) and why (errno or a reason).
// They are thrown at the point of failure, given context at layer boundaries with
// withContext(), and printed once, in main.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>

namespace netlab {

// Any failure netlab reports. what() is the full, user-facing message.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int errnoValue = 0)
      : std::runtime_error(message), errno_(errnoValue) {}
  // The kernel's errno behind the failure, 0 when there is none.
  int errnoValue() const { return errno_; }

 private:
  int errno_;
};

// A failed system call: "setns(/proc/4242/ns/net): Operation not permitted".
class SystemError : public Error {
 public:
  SystemError(const std::string& operation, const std::string& object, int errnoValue = errno);
};

// Rethrows the exception in flight as an Error whose message is "context: original".
[[noreturn]] void rethrowWithContext(const std::string& context);

// Runs fn; any Error it throws gains "context: " in front.
template <typename Fn>
decltype(auto) withContext(const std::string& context, Fn&& fn) {
  try {
    return fn();
  } catch (...) {
    rethrowWithContext(context);
  }
}

// strerror() that is thread-safe and never returns null.
std::string errnoText(int errnoValue);

}  // namespace netlab
