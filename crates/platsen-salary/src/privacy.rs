//! What may be published.
//!
//! Percentiles follow Arbetsgivarverket's thresholds on the number of
//! respondents in the whole filter combination: median (and mean) from 5,
//! quartiles from 9, P10 and P90 from 21. Minimum and maximum are never
//! published.
//!
//! Counts and means add up, so a hidden group's count and mean could be
//! recovered from a total and its shown parts (15 respondents of whom 11 are
//! women shown leaves the 4 men). No threshold per cell prevents that, in
//! one response or across many. Platsen therefore publishes the count and
//! mean only of groups that are unions of **disclosure blocks**: a partition
//! of each year's respondents into blocks of at least 5, formed once per
//! year. Every count or mean anyone can compute from published figures, by
//! any sum or difference over any number of requests, is then a combination
//! of block totals; the finest thing it can isolate is a whole block, at
//! least 5 people, which is what the median threshold allows anyway.
//!
//! Blocks are made top-down in the order readers use most: role, sector,
//! gender, county, experience, age. At each level the groups of at least 5
//! are split further; the smaller ones are pooled (with the smallest large
//! group if the pool itself would be under 5), and the pool is split by the
//! next levels. So the count and mean of a role, a role in a sector, or a
//! role by gender show whenever no small group forces a pool there.

use std::collections::BTreeMap;

/// Respondents a median or mean needs.
pub const MEDIAN_MIN: usize = 5;
/// Respondents quartiles need.
pub const QUARTILE_MIN: usize = 9;
/// Respondents P10 and P90 need.
pub const DECILE_MIN: usize = 21;
/// The smallest block (and so the smallest group whose count or mean can
/// be derived).
pub const BLOCK_MIN: usize = 5;

/// Why a figure is absent. The reason stays inside: what is published is
/// one code, [`Suppressed::CODE`], and one general sentence, because the
/// reason itself would tell a group of 1–4 respondents (too few) from one
/// of 5 or more (derivable from other figures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Suppressed {
    /// Too few respondents for this measure.
    FewRespondents,
    /// It could be derived together with other published figures.
    Complementary,
    /// The comparison it needs (previous year, women and men) is not published.
    NotComparable,
}

impl Suppressed {
    /// The one code every hidden figure is published with.
    pub const CODE: &'static str = "suppressed";

    /// The Swedish explanation shown next to a hidden value: the same for
    /// every reason.
    pub fn reason_sv(self) -> &'static str {
        "Döljs för att ingen enskild persons lön ska kunna räknas fram (för få svar i gruppen, \
         eller går att räkna fram ur andra publicerade siffror)."
    }
}

/// The disclosure blocks of one year: block number per respondent.
#[derive(Debug, Clone)]
pub struct Blocks {
    of: Vec<u32>,
    sizes: Vec<usize>,
}

impl Blocks {
    /// `keys[i]` is respondent i's values along the hierarchy's levels.
    pub fn new<K: Ord + Copy>(keys: &[Vec<K>]) -> Blocks {
        let mut blocks = Blocks { of: vec![0; keys.len()], sizes: Vec::new() };
        let all: Vec<usize> = (0..keys.len()).collect();
        let levels = keys.first().map_or(0, Vec::len);
        blocks.split(keys, all, 0, levels);
        blocks
    }

    fn split<K: Ord + Copy>(&mut self, keys: &[Vec<K>], members: Vec<usize>, level: usize, levels: usize) {
        if level == levels || members.len() < 2 * BLOCK_MIN {
            // Nothing left to split on, or no split could give two blocks.
            let id = self.sizes.len() as u32;
            for &m in &members {
                self.of[m] = id;
            }
            self.sizes.push(members.len());
            return;
        }
        let mut groups: BTreeMap<K, Vec<usize>> = BTreeMap::new();
        for m in members {
            groups.entry(keys[m][level]).or_default().push(m);
        }
        let (mut large, small): (Vec<Vec<usize>>, Vec<Vec<usize>>) =
            groups.into_values().partition(|g| g.len() >= BLOCK_MIN);
        let mut pool: Vec<usize> = small.into_iter().flatten().collect();
        if !pool.is_empty() && pool.len() < BLOCK_MIN {
            // Too small alone: take the smallest large group in (the first
            // of equals, so the result does not depend on hash order).
            let at = (0..large.len()).min_by_key(|&i| large[i].len()).expect("the node has at least 10 members");
            pool.extend(large.remove(at));
        }
        for group in large {
            self.split(keys, group, level + 1, levels);
        }
        if !pool.is_empty() {
            self.split(keys, pool, level + 1, levels);
        }
    }

    /// Whether the respondents for which `member(i)` holds are a union of
    /// whole blocks: then their count and mean may be published.
    pub fn is_union(&self, member: impl Fn(usize) -> bool) -> bool {
        let mut inside = vec![0usize; self.sizes.len()];
        for i in 0..self.of.len() {
            if member(i) {
                inside[self.of[i] as usize] += 1;
            }
        }
        inside.iter().zip(&self.sizes).all(|(n, size)| *n == 0 || n == size)
    }

    /// Respondent `i`'s block.
    pub fn of(&self, i: usize) -> u32 {
        self.of[i]
    }

    /// How many respondents block `b` holds.
    pub fn size(&self, b: u32) -> usize {
        self.sizes[b as usize]
    }

    /// The smallest block's size (0 with no respondents).
    pub fn smallest(&self) -> usize {
        self.sizes.iter().copied().min().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleven_women_and_four_men_form_one_block() {
        // role, sector, gender
        let mut keys = vec![vec![0u8, 0, 1]; 11];
        keys.extend(vec![vec![0u8, 0, 2]; 4]);
        let b = Blocks::new(&keys);
        assert!(b.is_union(|_| true));
        assert!(!b.is_union(|i| keys[i][2] == 1), "the women's count would reveal the men's");
        assert!(!b.is_union(|i| keys[i][2] == 2));
    }

    #[test]
    fn every_block_has_at_least_five_and_large_groups_stay_whole() {
        let mut keys = Vec::new();
        for role in 0..4u8 {
            for gender in 0..3u8 {
                let n = [30 + role as usize, 7, 2][gender as usize];
                keys.extend(std::iter::repeat_n(vec![role, gender], n));
            }
        }
        let b = Blocks::new(&keys);
        assert!(b.smallest() >= BLOCK_MIN);
        for role in 0..4u8 {
            assert!(b.is_union(|i| keys[i][0] == role));
            // The 30-odd of gender 0 are a block; 7 and 2 pool to 9.
            assert!(b.is_union(|i| keys[i][0] == role && keys[i][1] == 0));
            assert!(!b.is_union(|i| keys[i][0] == role && keys[i][1] == 1));
        }
    }
}
