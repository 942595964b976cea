//! A download read as it arrives by blocking code (the archive walk and the parser run on
//! a blocking thread): an async task pulls the body chunk by chunk into a small bounded
//! channel, the walk reads from the other end. At most `DEPTH` chunks wait in memory; a
//! walk that stops early drops its end, and the download stops with it.

use std::io::{self, Read};

/// Chunks in flight between the download and the walk.
const DEPTH: usize = 8;

/// One piece of the body, or why the download stopped.
type Chunk = Result<Vec<u8>, String>;

/// The blocking end: an `io::Read` over the chunks.
#[derive(Debug)]
pub struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Chunk>,
    current: Vec<u8>,
    at: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.current.len() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.current = chunk;
                    self.at = 0;
                }
                Some(Err(why)) => return Err(io::Error::other(format!("download: {why}"))),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Starts pulling `response`'s body; the reader yields it as it arrives.
pub fn pull(mut response: reqwest::Response) -> (ChannelReader, tokio::task::JoinHandle<()>) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(DEPTH);
    let task = tokio::spawn(async move {
        loop {
            let next = match response.chunk().await {
                Ok(Some(chunk)) => Ok(chunk.to_vec()),
                Ok(None) => break,
                Err(e) => Err(e.without_url().to_string()),
            };
            let stop = next.is_err();
            if tx.send(next).await.is_err() || stop {
                break;
            }
        }
    });
    (
        ChannelReader {
            rx,
            current: Vec::new(),
            at: 0,
        },
        task,
    )
}
