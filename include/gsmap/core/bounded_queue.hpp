#pragma once
// A blocking multi-producer multi-consumer queue with a capacity (back-pressure between pipeline
// stages). close() wakes every waiter: pop() then drains what is left and returns nullopt.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace gsmap {

template <typename T>
class BoundedQueue {
 public:
  // capacity 0 = unbounded.
  explicit BoundedQueue(std::size_t capacity = 0) : capacity_(capacity) {}

  // Blocks while full. Returns false if the queue was closed.
  bool push(T item) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return closed_ || capacity_ == 0 || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Blocks while empty and open. nullopt once closed and drained.
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  std::size_t capacity() const { return capacity_; }
  // Whether a push would wait now (a hint: another thread may pop or push right after).
  bool full() const {
    std::lock_guard lock(mutex_);
    return capacity_ != 0 && items_.size() >= capacity_;
  }

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace gsmap
