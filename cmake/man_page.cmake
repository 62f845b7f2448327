# Writes the clresnet(1) man page from the program's own --help, at build time:
#   cmake -DHELP2MAN=help2man -DPROGRAM=build/clresnet -DOUTPUT=clresnet.1 -P man_page.cmake
# help2man turns `clresnet --help` and `--version` into the page; each command's
# --help (devices, run, bench) is added, verbatim, as a COMMANDS section, so the page
# says everything the program's help says and cannot drift from it.
cmake_minimum_required(VERSION 3.16)

# help_of(<command words> VARIABLE) runs the program's --help and escapes it for roff:
# a backslash is \e, and a line starting with . or ' is text, not a request.
function(help_of variable)
  execute_process(COMMAND ${PROGRAM} ${ARGN} --help OUTPUT_VARIABLE help RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} ${ARGN} --help failed (${status})")
  endif()
  string(REPLACE "\\" "\\e" help "${help}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
  set(${variable} "${help}" PARENT_SCOPE)
endfunction()

# The top-level help's examples are kept line by line (help2man would fill them into
# one paragraph); its closing "Name: text" paragraphs become sections of their own.
help_of(top)
if(NOT top MATCHES "\nExamples:\n(.*)$")
  message(FATAL_ERROR "${PROGRAM} --help has no Examples")
endif()
set(tail "${CMAKE_MATCH_1}")
string(REGEX MATCH "^([^\n]+\n)+" examples "${tail}")
string(LENGTH "${examples}" length)
string(SUBSTRING "${tail}" ${length} -1 rest)
set(include_text "[=EXAMPLES]\n.nf\n${examples}.fi\n")
string(REGEX MATCHALL "[^\n][^\n]*(\n[^\n]+)*" paragraphs "${rest}")
foreach(paragraph IN LISTS paragraphs)
  if(paragraph MATCHES "^([A-Za-z ]+): (.*)$")
    string(TOUPPER "${CMAKE_MATCH_1}" section)
    string(APPEND include_text "[${section}]\n${CMAKE_MATCH_2}\n")
  endif()
endforeach()

string(APPEND include_text "[COMMANDS]\n")
foreach(command devices run bench)
  help_of(help ${command})
  string(APPEND include_text ".SS clresnet ${command}\n.nf\n${help}.fi\n")
endforeach()
set(include_file ${OUTPUT}.include)
file(WRITE ${include_file} "${include_text}")

execute_process(
  COMMAND ${HELP2MAN} --no-info --section 1 --source "clresnet"
          --name "run torchvision ResNets on any OpenCL device" --include ${include_file}
          --output ${OUTPUT} ${PROGRAM}
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  file(REMOVE ${OUTPUT})
  message(FATAL_ERROR "help2man failed (${status})")
endif()
