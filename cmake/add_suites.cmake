# Writes a CTest include file with one test per GoogleTest suite of TEST_EXECUTABLE (run after
# each build, like gtest_discover_tests, which makes one per test). Arguments: TEST_EXECUTABLE,
# OUTPUT, LABEL.
execute_process(COMMAND "${TEST_EXECUTABLE}" --gtest_list_tests
                OUTPUT_VARIABLE listing RESULT_VARIABLE status)
if(NOT status EQUAL 0)
    message(FATAL_ERROR "${TEST_EXECUTABLE} --gtest_list_tests failed (${status})")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(script "")
foreach(line IN LISTS lines)
    # A suite line starts in the first column: "Suite." or "Prefix/Suite." plus a comment.
    if(line MATCHES "^([A-Za-z0-9_/]+)\\.")
        set(suite "${CMAKE_MATCH_1}")
        string(APPEND script "add_test([=[${suite}.*]=] \"${TEST_EXECUTABLE}\" "
                             "[=[--gtest_filter=${suite}.*]=] --gtest_brief=1)\n"
                             "set_tests_properties([=[${suite}.*]=] PROPERTIES LABELS ${LABEL})\n")
    endif()
endforeach()
if(script STREQUAL "")
    message(FATAL_ERROR "${TEST_EXECUTABLE} lists no test suite")
endif()
file(WRITE "${OUTPUT}" "${script}")
