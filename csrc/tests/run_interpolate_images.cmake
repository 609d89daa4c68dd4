# ctest script: runs the example on the committed fixtures and checks what it writes, then checks
# that bad input fails with a clear message.
#   cmake -DEXE=interpolate_images -DDATA=tests/data -DOUT=dir -DFRAMES=5 -P run_interpolate_images.cmake
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})

execute_process(COMMAND ${EXE} ${DATA}/tiny_generator.pt ${DATA}/a.ppm ${DATA}/b.ppm ${OUT}/frame
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "interpolate_images failed (${rc}):\n${out}${err}")
endif()
# the fixtures are 21x13: a 13-byte header and 21*13*3 pixel bytes
foreach(i RANGE 1 ${FRAMES})
  set(image ${OUT}/frame_${i}.ppm)
  if(NOT EXISTS ${image})
    message(FATAL_ERROR "${image} was not written:\n${out}")
  endif()
  file(SIZE ${image} size)
  file(READ ${image} header LIMIT 13)
  if(NOT size EQUAL 832 OR NOT header STREQUAL "P6\n21 13\n255\n")
    message(FATAL_ERROR "${image}: ${size} bytes, header '${header}'; expected a 21x13 P6 image of 832 bytes")
  endif()
endforeach()
math(EXPR extra "${FRAMES} + 1")
if(EXISTS ${OUT}/frame_${extra}.ppm)
  message(FATAL_ERROR "more than ${FRAMES} frames were written")
endif()
message(STATUS "interpolate_images wrote ${FRAMES} 21x13 frames")

# bad input: a nonzero exit and a message on stderr that says what is wrong
function(expect_failure expected)
  execute_process(COMMAND ${EXE} ${ARGN} RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
  string(FIND "${err}" "${expected}" found)
  if(rc EQUAL 0 OR found EQUAL -1)
    message(FATAL_ERROR "interpolate_images ${ARGN}: exit ${rc}, stderr:\n${err}\nexpected a failure saying '${expected}'")
  endif()
  message(STATUS "fails clearly: ${err}")
endfunction()
expect_failure("not a binary PPM image" ${DATA}/tiny_generator.pt ${DATA}/tiny_generator.pt ${DATA}/b.ppm ${OUT}/bad)
expect_failure("not a pyframegan model" ${DATA}/a.ppm ${DATA}/a.ppm ${DATA}/b.ppm ${OUT}/bad)
expect_failure("no model file at" ${DATA}/missing.pt ${DATA}/a.ppm ${DATA}/b.ppm ${OUT}/bad)
expect_failure("usage: interpolate_images" ${DATA}/tiny_generator.pt ${DATA}/a.ppm)
