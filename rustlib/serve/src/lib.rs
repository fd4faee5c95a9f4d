//! ferrokit-serve: an Open Inference Protocol (KServe V2) server for ferrokit
//! model files, on ferrokit-core directly (no C ABI, no `unsafe`).
//!
//! Modules: [`protocol`] (the protocol's data model and errors), [`decode`] /
//! [`encode`] (JSON and Triton binary tensor data), [`model`] (what the server
//! needs from a model, and the adapters), [`batching`] (adaptive batching),
//! [`repository`] (the model folder), [`metrics`], [`log`], [`pb`] /
//! [`grpc_codec`] (gRPC messages); with the `server` feature also [`config`]
//! (command line), [`http`] (REST routing), [`grpc`] (the gRPC service),
//! [`engine`] (running a request) and [`server`] (listeners, signals).
#![forbid(unsafe_code)]

pub mod batching;
pub mod decode;
pub mod encode;
pub mod grpc_codec;
pub mod log;
pub mod metrics;
pub mod model;
pub mod pb;
pub mod pipeline;
pub mod protocol;
pub mod repository;

#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod engine;
#[cfg(feature = "server")]
pub mod grpc;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "server")]
pub mod server;
