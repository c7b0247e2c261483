liaison_cc_benchmark(NAME storage_benchmark
  SRCS ${CMAKE_CURRENT_SOURCE_DIR}/storage_benchmark.cc
  DEPS liaison_storage_sqlite)
