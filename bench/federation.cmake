# The hub-to-hub replication benchmark (issue 4): two liaison processes partnered with the CLI,
# publish-to-visible latency and replication throughput. See bench/federation_benchmark.cc. A tool,
# not a hub module: it links Boost.Beast and simdjson directly. It runs the liaison binary, so it
# depends on it being built.
if(LIAISON_BUILD_BENCHMARKS)
  add_executable(federation_benchmark ${CMAKE_CURRENT_LIST_DIR}/federation_benchmark.cc)
  target_link_libraries(federation_benchmark PRIVATE Boost::headers simdjson::simdjson
                        Threads::Threads)
  add_dependencies(federation_benchmark liaison)
endif()
