# Figure 8, Ruby: records when the handler starts, in milliseconds of CLOCK_MONOTONIC (the
# clock of Python's time.monotonic) and of the wall clock.
def config
  { type: 'event', name: 'BenchRb', subscribes: ['bench.rb'], emits: [], flows: ['bench'] }
end

def handler(input, context)
  started = [Process.clock_gettime(Process::CLOCK_MONOTONIC, :float_millisecond),
             Process.clock_gettime(Process::CLOCK_REALTIME, :float_millisecond)]
  context.state.set('bench-rb', input.seq.to_s, started)
end
