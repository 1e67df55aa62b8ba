# netlab's version, from one place: project()'s VERSION, with what `git describe` says of the
# checkout when it is a git one ("0.1.0+git.12.gabc1234", "+dirty" for uncommitted changes), so a
# package built from a commit says which. Computed when CMake configures; written to
# base/version.hpp in the build tree, which only the files that print the version include.
function(netlab_compute_version out)
  set(version "${PROJECT_VERSION}")
  find_package(Git QUIET)
  if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
    execute_process(
      COMMAND "${GIT_EXECUTABLE}" describe --tags --match "v[0-9]*" --long --dirty --always
      WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
      OUTPUT_VARIABLE described OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE failed ERROR_QUIET)
    if(NOT failed AND described)
      # "v0.1.0-12-gabc1234[-dirty]" with a tag; "abc1234[-dirty]" without one.
      if(described MATCHES "^v[0-9.]+-([0-9]+)-(g[0-9a-f]+)(-dirty)?$")
        if(NOT CMAKE_MATCH_1 STREQUAL "0")
          string(APPEND version "+git.${CMAKE_MATCH_1}.${CMAKE_MATCH_2}")
        endif()
        set(dirty "${CMAKE_MATCH_3}")
      elseif(described MATCHES "^([0-9a-f]+)(-dirty)?$")
        string(APPEND version "+git.g${CMAKE_MATCH_1}")
        set(dirty "${CMAKE_MATCH_2}")
      endif()
      if(dirty)
        string(APPEND version ".dirty")
      endif()
    endif()
  endif()
  set(${out} "${version}" PARENT_SCOPE)
endfunction()
