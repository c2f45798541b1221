#pragma once
// Stub: being written.
