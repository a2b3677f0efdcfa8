# Installs the build tree into a scratch prefix, then configures, builds and runs a tiny
# service that finds conveyor with find_package and links conveyor::conveyor.
# Run with -DSOURCE_DIR=... -DBUILD_DIR=... -DWORK_DIR=... -P check_install.cmake
file(REMOVE_RECURSE ${WORK_DIR})

function(step)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT status EQUAL 0)
        message(FATAL_ERROR "failed: ${ARGN}\n${out}")
    endif()
endfunction()

step(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
step(${CMAKE_COMMAND} -S ${SOURCE_DIR}/test/package/service -B ${WORK_DIR}/build
     -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
step(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
step(${WORK_DIR}/build/service)
foreach(app conveyor-producer conveyor-consumer conveyor-ctl)
    if(NOT EXISTS ${WORK_DIR}/prefix/bin/${app})
        message(FATAL_ERROR "${app} was not installed")
    endif()
endforeach()
message(STATUS "installed tree builds and runs a service")
