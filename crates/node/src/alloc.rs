//! A counting global allocator, so INFO's `used_memory` reports what the process
//! really holds. Each thread batches its count locally and publishes it to the
//! shared total only when it has moved by 64 KiB, keeping the hot path free of
//! shared-cache-line traffic.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};

static TOTAL: AtomicIsize = AtomicIsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);
const FLUSH: isize = 64 * 1024;

thread_local! {
    static PENDING: Cell<isize> = const { Cell::new(0) };
}

/// Install in a binary with `#[global_allocator] static A: Counting = Counting;`.
pub struct Counting;

/// What an allocation of `size` bytes really takes from glibc's malloc: a chunk
/// with an 8-byte header, rounded to 16 bytes, at least 32; big ones are mapped
/// whole pages. Counting this instead of the requested size keeps `used_memory`
/// close to what the process holds (Redis counts jemalloc's usable size likewise).
fn footprint(size: usize) -> isize {
    const MMAP_THRESHOLD: usize = 128 * 1024;
    let chunk = if size >= MMAP_THRESHOLD {
        (size + 16 + 4095) & !4095
    } else {
        ((size + 8 + 15) & !15).max(32)
    };
    chunk as isize
}

fn account(delta: isize) {
    // `try_with` fails only during thread teardown; count directly then.
    let flushed = PENDING.try_with(|p| {
        let v = p.get() + delta;
        if v.abs() >= FLUSH {
            TOTAL.fetch_add(v, Relaxed);
            p.set(0);
        } else {
            p.set(v);
        }
    });
    if flushed.is_err() {
        TOTAL.fetch_add(delta, Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            account(footprint(layout.size()));
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        account(-footprint(layout.size()));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as GlobalAlloc::realloc, forwarded.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            account(footprint(new_size) - footprint(layout.size()));
        }
        p
    }
}

/// Bytes allocated through the counting allocator, if it is installed.
pub fn allocated() -> Option<usize> {
    INSTALLED
        .load(Relaxed)
        .then(|| TOTAL.load(Relaxed).max(0) as usize)
}

/// Resident set size of the process, from /proc.
pub fn rss() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<usize>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}
