# Helpers so that each module's CMakeLists.txt is a declaration.
#
#   liaison_cc_library(NAME stix SRCS a.cc b.cc DEPS liaison_common simdjson::simdjson)
#     -> static library target liaison_<NAME>, include root src/
#   liaison_cc_test(NAME stix_test SRCS stix_test.cc DEPS liaison_stix)
#     -> GoogleTest executable registered with gtest_discover_tests
#   liaison_cc_benchmark(NAME pattern_benchmark SRCS ... DEPS ...)
#   liaison_cc_fuzz(NAME pattern_parser_fuzz SRCS ... DEPS ... CORPUS dir)
#     -> libFuzzer target when LIAISON_BUILD_FUZZERS, and always a test that replays the corpus

set(LIAISON_SRC_ROOT ${CMAKE_SOURCE_DIR}/src)

function(liaison_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(liaison_${ARG_NAME} STATIC ${ARG_SRCS})
  target_include_directories(liaison_${ARG_NAME} PUBLIC ${LIAISON_SRC_ROOT})
  target_link_libraries(liaison_${ARG_NAME} PUBLIC ${ARG_DEPS})
endfunction()

function(liaison_cc_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PROPERTIES" ${ARGN})
  if(NOT LIAISON_BUILD_TESTS)
    return()
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PRIVATE ${LIAISON_SRC_ROOT} ${CMAKE_SOURCE_DIR})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main Threads::Threads)
  target_compile_definitions(${ARG_NAME} PRIVATE
    LIAISON_SOURCE_DIR="${CMAKE_SOURCE_DIR}" LIAISON_BINARY_DIR="${CMAKE_BINARY_DIR}")
  gtest_discover_tests(${ARG_NAME} DISCOVERY_TIMEOUT 60 PROPERTIES ${ARG_PROPERTIES})
endfunction()

function(liaison_cc_benchmark)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  if(NOT LIAISON_BUILD_BENCHMARKS)
    return()
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PRIVATE ${LIAISON_SRC_ROOT} ${CMAKE_SOURCE_DIR})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} benchmark::benchmark Threads::Threads)
endfunction()

# A fuzz target is a file defining LLVMFuzzerTestOneInput. With LIAISON_BUILD_FUZZERS (clang) it
# becomes a libFuzzer binary; in every build it is also linked to a small driver that replays the
# seed corpus, registered as an ordinary test, so the corpus keeps passing.
function(liaison_cc_fuzz)
  cmake_parse_arguments(ARG "" "NAME;CORPUS" "SRCS;DEPS" ${ARGN})
  if(LIAISON_BUILD_FUZZERS)
    add_executable(${ARG_NAME} ${ARG_SRCS})
    target_include_directories(${ARG_NAME} PRIVATE ${LIAISON_SRC_ROOT})
    target_compile_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  endif()
  if(LIAISON_BUILD_TESTS)
    add_executable(${ARG_NAME}_replay ${ARG_SRCS} ${CMAKE_SOURCE_DIR}/tests/testing/fuzz_replay_main.cc)
    target_include_directories(${ARG_NAME}_replay PRIVATE ${LIAISON_SRC_ROOT})
    target_link_libraries(${ARG_NAME}_replay PRIVATE ${ARG_DEPS})
    add_test(NAME ${ARG_NAME}_corpus COMMAND ${ARG_NAME}_replay ${ARG_CORPUS})
  endif()
endfunction()
