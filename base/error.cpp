#include "base/error.hpp"

#include <cstring>
#include <exception>

namespace netlab {

std::string errnoText(int errnoValue) {
  char buffer[128];
  // GNU strerror_r returns a pointer that may or may not be into buffer.
  return strerror_r(errnoValue, buffer, sizeof buffer);
}

SystemError::SystemError(const std::string& operation, const std::string& object, int errnoValue)
    : Error(operation + (object.empty() ? "" : "(" + object + ")") + ": " + errnoText(errnoValue),
            errnoValue) {}

void rethrowWithContext(const std::string& context) {
  try {
    throw;
  } catch (const Error& error) {
    throw Error(context + ": " + error.what(), error.errnoValue());
  } catch (const std::exception& error) {
    throw Error(context + ": " + error.what());
  }
}

}  // namespace netlab
