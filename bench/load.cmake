# The end-to-end load generator (bench/README.md). A tool, not a hub module: it links Boost.Beast
# and simdjson directly. Included by bench/CMakeLists.txt, which exists only when
# LIAISON_BUILD_BENCHMARKS is on.
if(LIAISON_BUILD_BENCHMARKS)
  add_executable(load_generator ${CMAKE_CURRENT_LIST_DIR}/load_generator.cc)
  target_link_libraries(load_generator PRIVATE Boost::headers simdjson::simdjson Threads::Threads)
endif()
