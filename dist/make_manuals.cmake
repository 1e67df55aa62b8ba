# Writes netlab(1) and netlab-VERB(1) for every verb netlab lists, with `netlab __man`, into
# OUT: the pages come from the command table that --help prints, so they never disagree.
# Usage: cmake -DNETLAB=path/to/netlab -DOUT=dir -P make_manuals.cmake
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")
execute_process(COMMAND "${NETLAB}" __complete "" OUTPUT_VARIABLE verbs RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "${NETLAB} __complete: ${failed}")
endif()
string(REPLACE "\n" ";" verbs "${verbs}")
execute_process(COMMAND "${NETLAB}" __man OUTPUT_FILE "${OUT}/netlab.1" RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "${NETLAB} __man: ${failed}")
endif()
foreach(verb IN LISTS verbs)
  if(verb)
    execute_process(COMMAND "${NETLAB}" __man "${verb}" OUTPUT_FILE "${OUT}/netlab-${verb}.1"
                    RESULT_VARIABLE failed)
    if(failed)
      message(FATAL_ERROR "${NETLAB} __man ${verb}: ${failed}")
    endif()
  endif()
endforeach()
