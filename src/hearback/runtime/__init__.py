"""Process plumbing every part shares and none owns: the CPU quota and device faults
(:mod:`~hearback.runtime.device`), private temporary folders that never outlive their process
(:mod:`~hearback.runtime.tempdirs`), heap memory given back between stages
(:mod:`~hearback.runtime.memory`) and one throttle for progress reports
(:mod:`~hearback.runtime.progress`). May import only the floor (:mod:`hearback.types`); its
modules import none of each other.
"""
