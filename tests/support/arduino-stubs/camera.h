/* Stub of the mbed cores' Camera library (ArduinoCore-mbed libraries/Camera/src/camera.h). */
#pragma once
#include <Arduino.h>
#include <Wire.h>

enum { CAMERA_GRAYSCALE = 0, CAMERA_BAYER = 1, CAMERA_RGB565 = 2, CAMERA_PMAX };
enum {
  CAMERA_R160x120 = 0,
  CAMERA_R320x240 = 1,
  CAMERA_R320x320 = 2,
  CAMERA_R640x480 = 3,
  CAMERA_R800x600 = 5,
  CAMERA_R1600x1200 = 6,
  CAMERA_RMAX
};

class FrameBuffer {
 public:
  FrameBuffer(int32_t x, int32_t y, int32_t bpp);
  FrameBuffer(int32_t address);
  FrameBuffer();
  uint32_t getBufferSize();
  uint8_t *getBuffer();
  void setBuffer(uint8_t *buffer);
  bool hasFixedSize();
  bool isAllocated();
};

class ImageSensor {
 public:
  virtual ~ImageSensor() {}
  virtual int init() = 0;
  virtual int reset() = 0;
  virtual int getID() = 0;
  virtual bool getMono() = 0;
};

class Camera {
 public:
  Camera(ImageSensor &sensor);
  bool begin(int32_t resolution = CAMERA_R320x240, int32_t pixformat = CAMERA_GRAYSCALE,
             int32_t framerate = 30);
  int getID();
  int setFrameRate(int32_t framerate);
  int setResolution(int32_t resolution);
  int setPixelFormat(int32_t pixelformat);
  int frameSize();
  int grabFrame(FrameBuffer &fb, uint32_t timeout = 5000);
  uint32_t getResolutionWidth();
  uint32_t getResolutionHeight();
};
