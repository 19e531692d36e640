# Run after a GoogleTest executable is built (cmake -P, from metadial_add_gtest in
# tests/CMakeLists.txt): lists its test suites and writes a CTest file with one test per suite,
# <target>.<Suite>, running `<exe> --gtest_filter=<Suite>.*`.
#   -D EXE=<test executable>  -D TARGET=<name>  -D OUT=<ctest file>  -D LABELS=<a;b>
#   -D WORKDIR=<working directory>
execute_process(COMMAND "${EXE}" --gtest_list_tests
                OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rc TIMEOUT 60)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${EXE} --gtest_list_tests failed (${_rc}):\n${_out}\n${_err}")
endif()
string(REPLACE "\n" ";" _lines "${_out}")
set(_script "")
foreach(_line IN LISTS _lines)
  # A suite line is "Suite." or "Prefix/Suite/0.  # TypeParam = ..."; test lines are indented.
  if(_line MATCHES "^([^ .#]+)\\.")
    set(_suite "${CMAKE_MATCH_1}")
    if(_suite MATCHES "^DISABLED_")
      continue()
    endif()
    set(_name "${TARGET}.${_suite}")
    string(APPEND _script
      "add_test([==[${_name}]==] [==[${EXE}]==] [==[--gtest_filter=${_suite}.*]==])\n"
      "set_tests_properties([==[${_name}]==] PROPERTIES LABELS [==[${LABELS}]==] "
      "WORKING_DIRECTORY [==[${WORKDIR}]==])\n")
  endif()
endforeach()
if(_script STREQUAL "")
  message(FATAL_ERROR "${EXE} lists no test suites")
endif()
file(WRITE "${OUT}" "${_script}")
