#!/bin/sh
. "$(dirname "$0")/setup.sh"
done_testing
