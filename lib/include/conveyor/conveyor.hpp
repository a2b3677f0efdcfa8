// Everything a user of conveyor needs, in one include.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/checksum.hpp"
#include "conveyor/endpoint.hpp"
#include "conveyor/error.hpp"
#include "conveyor/generated_message.hpp"
#include "conveyor/open.hpp"
#include "conveyor/pipe/child.hpp"
#include "conveyor/pipe/fifo.hpp"
#include "conveyor/pipe/framing.hpp"
#include "conveyor/pipe/stream.hpp"
#include "conveyor/shm/queue.hpp"
#include "conveyor/shm/segment.hpp"
#include "conveyor/shm/topic.hpp"
#include "conveyor/signals.hpp"
