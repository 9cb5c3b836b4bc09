//! (security helper fills this module)
