//! The table of a [`Vocab`](super::vocab::Vocab)'s short terms (at most 15
//! bytes, each one integer key): open addressing with linear probing and the
//! entries inline, so that finding a term reads one cache line, and that line
//! can be asked for ([`ShortTable::prefetch`]) before the term is looked up.
//!
//! Why not `hashbrown`: a `char_wb` (2, 4) fit of the 20 MB bench corpus looks
//! up 11.6 million n-grams in a vocabulary of 950 000 terms (a 48 MB table),
//! and almost every lookup misses the cache. `hashbrown` reads its control
//! bytes and then the entry, two dependent misses, and gives no address to
//! prefetch: those lookups were a quarter of the fit's time.

use crate::simd::mem::{prefetch, reserve_huge};

/// A short term as one integer (see `vocab::short_key`).
pub(crate) type Key = [u64; 2];

/// The id of an empty slot (no term has it: ids are below `vocab::LOCAL`).
const EMPTY: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Slot {
    key: Key,
    id: u32,
}

const EMPTY_SLOT: Slot = Slot {
    key: [0, 0],
    id: EMPTY,
};

/// Keys (each with its hash, see [`hash`]) to ids.
#[derive(Clone, Default)]
pub(crate) struct ShortTable {
    /// A power of two of slots (or none), at most 7/10 of them used, so a
    /// miss probes a few slots on average.
    slots: Vec<Slot>,
    len: usize,
}

/// The hash of a key (only affects speed, never results).
#[inline(always)]
pub(crate) fn hash(k: Key) -> u64 {
    let p = ((k[0] ^ 0x243F_6A88_85A3_08D3) as u128) * ((k[1] ^ 0x9E37_79B9_7F4A_7C15) as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

impl ShortTable {
    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
    }

    /// Asks for the cache line where the lookup of hash `h` starts (a hint:
    /// results never depend on it).
    #[inline(always)]
    pub(crate) fn prefetch(&self, h: u64) {
        if !self.slots.is_empty() {
            prefetch(&self.slots[h as usize & (self.slots.len() - 1)]);
        }
    }

    /// The id of key `k` (`h` must be `hash(k)`), if present.
    #[inline]
    pub(crate) fn get(&self, k: Key, h: u64) -> Option<u32> {
        debug_assert_eq!(h, hash(k));
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.id == EMPTY {
                return None;
            }
            if s.key == k {
                return Some(s.id);
            }
            i = (i + 1) & mask;
        }
    }

    /// The id of key `k` (`h` must be `hash(k)`), or `new()`, stored under
    /// `k`, when absent.
    #[inline]
    pub(crate) fn get_or_insert(&mut self, k: Key, h: u64, new: impl FnOnce() -> u32) -> u32 {
        debug_assert_eq!(h, hash(k));
        if (self.len + 1) * 10 > self.slots.len() * 7 {
            self.resize((self.slots.len() * 2).max(16));
        }
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.id == EMPTY {
                break;
            }
            if s.key == k {
                return s.id;
            }
            i = (i + 1) & mask;
        }
        let id = new();
        assert!(id != EMPTY, "too many terms for a vocabulary");
        self.slots[i] = Slot { key: k, id };
        self.len += 1;
        id
    }

    /// Makes room for `additional` more keys without resizing.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let need = self.len + additional;
        if need * 10 > self.slots.len() * 7 {
            let mut cap = self.slots.len().max(16);
            while need * 10 > cap * 7 {
                cap *= 2;
            }
            self.resize(cap);
        }
    }

    /// Removes every key (keeps the slots).
    pub(crate) fn clear(&mut self) {
        if self.len > 0 {
            self.slots.fill(EMPTY_SLOT);
            self.len = 0;
        }
    }

    /// Moves the keys to `cap` (a power of two) fresh slots, backed by huge
    /// pages when large (fewer TLB misses on a lookup).
    #[cold]
    fn resize(&mut self, cap: usize) {
        let mut slots = Vec::new();
        reserve_huge(&mut slots, cap);
        slots.resize(cap, EMPTY_SLOT);
        let mask = cap - 1;
        for s in self.slots.iter().filter(|s| s.id != EMPTY) {
            let mut i = hash(s.key) as usize & mask;
            while slots[i].id != EMPTY {
                i = (i + 1) & mask;
            }
            slots[i] = *s;
        }
        self.slots = slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_ids_through_growth_clear_and_reserve() {
        let mut t = ShortTable::default();
        assert_eq!(t.get([1, 2], hash([1, 2])), None);
        t.prefetch(7); // no slots: nothing to ask for
        let key = |i: u64| [i.wrapping_mul(0x1234_5678_9ABC_DEF1), i >> 3];
        for i in 0..5000u64 {
            let k = key(i);
            let mut called = false;
            let id = t.get_or_insert(k, hash(k), || {
                called = true;
                i as u32
            });
            assert!(called);
            assert_eq!(id, i as u32);
            // A present key keeps its id and takes no new one.
            assert_eq!(t.get_or_insert(k, hash(k), || unreachable!()), i as u32);
        }
        assert_eq!(t.len, 5000);
        for i in 0..5000u64 {
            t.prefetch(hash(key(i)));
            assert_eq!(t.get(key(i), hash(key(i))), Some(i as u32));
        }
        assert_eq!(t.get(key(5000), hash(key(5000))), None);
        // Keys whose hashes share their low 12 bits (one long probe run in
        // any table of up to 4096 slots) are all found, through growth.
        let same: Vec<Key> = (0u64..)
            .map(|i| [i, 7])
            .filter(|&k| hash(k) & 0xFFF == 0x5A5)
            .take(300)
            .collect();
        let mut c = ShortTable::default();
        for (i, &k) in same.iter().enumerate() {
            assert_eq!(c.get_or_insert(k, hash(k), || i as u32), i as u32);
        }
        for (i, &k) in same.iter().enumerate() {
            assert_eq!(c.get(k, hash(k)), Some(i as u32));
        }
        assert_eq!(c.get([u64::MAX, 7], hash([u64::MAX, 7])), None);
        let cap = t.slots.len();
        t.reserve(100);
        assert_eq!(t.slots.len(), cap, "room enough: no resize");
        t.reserve(1 << 20);
        assert!(t.slots.len() * 7 >= (5000 + (1 << 20)) * 10);
        assert_eq!(t.get(key(77), hash(key(77))), Some(77));
        t.clear();
        assert_eq!(t.len, 0);
        assert_eq!(t.get(key(77), hash(key(77))), None);
        assert_eq!(t.get_or_insert(key(77), hash(key(77)), || 9), 9);
    }
}
