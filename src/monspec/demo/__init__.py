"""`monspec demo`: the bundled specs running live on loopback, and the faults that prove them.

`stack` starts Redis (master and replica), two `ucm demo` instances, Prometheus with the
generated rules, Alertmanager with the generated routing and a local receiver that logs every
notification, all under one work folder; `faults` breaks and repairs that stack. The live
end-to-end suite drives the same code with its time compressed.
"""
