//! (helper fills this module)
