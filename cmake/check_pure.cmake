# Fails the build when a pure library's sources reach websocketpp or Asio, directly or
# through any header: the compiler's own dependency list (-M) is checked, not the text.
# Run as: cmake -DCXX=... -DINCLUDE=... -DLIBRARY=... -DSOURCES="a.cpp;b.cpp" -P check_pure.cmake
foreach(source IN LISTS SOURCES)
  execute_process(
    COMMAND ${CXX} -std=c++17 -M -I${INCLUDE} ${source}
    OUTPUT_VARIABLE deps ERROR_VARIABLE errors RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${LIBRARY}: cannot list the includes of ${source}:\n${errors}")
  endif()
  string(REGEX MATCH "[^ \n\\\\]*(websocketpp/|/asio/|/asio\\.hpp)[^ \n\\\\]*" bad "${deps}")
  if(bad)
    message(FATAL_ERROR "${LIBRARY} must stay free of websocketpp and Asio, but ${source} "
                        "includes ${bad}")
  endif()
endforeach()
